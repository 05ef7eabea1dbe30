namespace Rpm.Benchmarks.Cost;

/// <summary>
/// The input tokens of one user's calls that a provider's prefix cache could serve: for each call, the longest token
/// prefix it shares with any earlier call of the same user (a token trie), counted under two published rules.
/// </summary>
public sealed class PrefixCache
{
    private readonly Node _root = new();

    /// <summary>Gets the tokens all calls sent.</summary>
    public long InputTokens { get; private set; }

    /// <summary>Gets the tokens servable by block caching with no minimum (vLLM's automatic prefix caching, 16-token blocks: only full blocks).</summary>
    public long BlockCached { get; private set; }

    /// <summary>Gets the tokens servable under OpenAI's rule (a shared prefix of at least 1,024 tokens, cached in 128-token steps).</summary>
    public long OpenAICached { get; private set; }

    /// <summary>Adds one call's prompt tokens, in call order.</summary>
    public void Add(IReadOnlyList<int> tokens)
    {
        int shared = 0;
        Node node = _root;
        bool matching = true;
        foreach (int token in tokens)
        {
            if (matching && node.Children.TryGetValue(token, out Node? next))
            {
                shared++;
                node = next;
                continue;
            }

            matching = false;
            var child = new Node();
            node.Children[token] = child;
            node = child;
        }

        InputTokens += tokens.Count;
        BlockCached += BlockRule(shared);
        OpenAICached += OpenAIRule(shared);
    }

    /// <summary>vLLM: whole 16-token blocks of the shared prefix.</summary>
    public static long BlockRule(int shared) => shared / 16 * 16;

    /// <summary>OpenAI: nothing under 1,024 shared tokens; from there, 1,024 plus whole 128-token steps.</summary>
    public static long OpenAIRule(int shared) => shared < 1024 ? 0 : 1024 + ((shared - 1024) / 128 * 128);

    private sealed class Node
    {
        public Dictionary<int, Node> Children { get; } = [];
    }
}
