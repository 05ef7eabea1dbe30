using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;

namespace Rpm.Evaluation;

/// <summary>
/// The prompts of the baselines. Every method states the task and the answer rule in the same words RPM uses; user text
/// travels as data, as one JSON document between <c>&lt;data&gt;</c> markers that no history text can close.
/// </summary>
internal static class BaselinePrompts
{
    /// <summary>Changes whenever a prompt changes, so that cached answers of older prompts are not reused.</summary>
    public const string Version = "baseline-prompts-v1";

    public const string CotInstruction =
        "Think step by step first: write your reasoning about what the data says about how this user answers, then give the final answer.";

    /// <summary>The prompt of zero-shot, RAG and PAG (and their CoT variants): only the context differs.</summary>
    public static List<ChatMessage> Answer(MethodContext context, EvaluationQuery query, bool chainOfThought, IReadOnlyList<HistoryItem>? examples, string? profileSummary)
    {
        RpmTask task = context.Task;
        var system = new List<string>
        {
            "You predict how one particular user answers a new input.",
            PromptRules.TaskLine(task),
        };

        if (examples is not null)
        {
            system.Add("The data holds the new input (\"query\") and the user's past inputs most relevant to it (\"examples\"), each with the answer the user gave (\"userAnswer\").");
        }
        else if (profileSummary is not null)
        {
            system.Add("The data holds the new input (\"query\") and a summary of this user's profile written from the user's history (\"profileSummary\").");
        }
        else
        {
            system.Add("The data holds the new input (\"query\").");
        }

        if (chainOfThought)
        {
            system.Add(CotInstruction);
        }

        system.Add(PromptRules.AnswerRule(task));
        system.Add(PromptRules.DataRule);
        system.Add(chainOfThought
            ? "Reply with one JSON object: {\"reasoning\": \"...\", \"answer\": \"...\"}."
            : "Reply with one JSON object: {\"answer\": \"...\"}.");

        var data = new JsonObject { ["query"] = Fit(context, query.Input) };
        PromptRules.AddOptions(data, task, query.Options);
        if (examples is not null)
        {
            var list = new JsonArray();
            foreach (HistoryItem item in examples)
            {
                var node = new JsonObject { ["input"] = Fit(context, item.Input) };
                PromptRules.AddOptions(node, task, item.Options);
                node["userAnswer"] = Fit(context, item.Output);
                list.Add(node);
            }

            data["examples"] = list;
        }

        if (profileSummary is not null)
        {
            data["profileSummary"] = profileSummary;
        }

        return PromptRules.Messages(system, data);
    }

    /// <summary>PAG's per-user call: a profile summary written from the history (most recent items first, within a budget).</summary>
    public static List<ChatMessage> Summary(MethodContext context, IReadOnlyList<HistoryItem> history, int maxHistoryTokens)
    {
        RpmTask task = context.Task;
        var system = new List<string>
        {
            "You write the profile of one user for a system that predicts the user's answers.",
            PromptRules.TaskLine(task),
            "The data lists items from the user's history (most recent first), each with the user's answer. Summarize, in at most 200 words, " +
            "the user's preferences, habits and answering patterns that would help predict the user's next answers. Be specific, cite tendencies, do not list items.",
            PromptRules.DataRule,
            "Reply with one JSON object: {\"summary\": \"...\"}.",
        };

        var list = new JsonArray();
        int used = 0;
        foreach (HistoryItem item in MostRecentFirst(history))
        {
            string input = Fit(context, item.Input);
            string output = Fit(context, item.Output);
            int cost = Count(context.Tokenizer, input) + Count(context.Tokenizer, output) + 8;
            if (list.Count > 0 && used + cost > maxHistoryTokens)
            {
                break;
            }

            used += cost;
            var node = new JsonObject { ["input"] = input };
            PromptRules.AddOptions(node, task, item.Options);
            node["userAnswer"] = output;
            list.Add(node);
        }

        return PromptRules.Messages(system, new JsonObject { ["history"] = list });
    }

    /// <summary>
    /// The history, most recent first: by <see cref="HistoryItem.Timestamp"/> (LaMP's "date") when every item has one,
    /// items of one time in reverse file order; otherwise reverse file order (LaMP and the MovieLens samples list
    /// profiles oldest first, but nothing promises it).
    /// </summary>
    public static IEnumerable<HistoryItem> MostRecentFirst(IReadOnlyList<HistoryItem> history)
    {
        IEnumerable<(HistoryItem Item, int Index)> reversed = history.Select((item, index) => (item, index)).Reverse();
        return history.All(h => h.Timestamp is not null)
            ? reversed.OrderByDescending(x => x.Item.Timestamp!.Value).Select(x => x.Item)
            : reversed.Select(x => x.Item);
    }

    /// <summary>Cuts a text to the context's token budget, exactly as RPM's stages cut theirs (<see cref="TextBudget"/>).</summary>
    public static string Fit(MethodContext context, string text) => new TextBudget(context.MaxInputTokens, context.Tokenizer).Fit(text);

    private static int Count(Tokenizer? tokenizer, string text) => new TextBudget(1, tokenizer).Count(text);
}
