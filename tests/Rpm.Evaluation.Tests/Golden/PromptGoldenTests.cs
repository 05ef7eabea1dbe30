using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Golden;

/// <summary>
/// Every prompt that a build, an update, a query, a chat turn and every evaluation method sends, for every task kind,
/// batched and not, byte for byte as recorded in <c>Golden/prompts/</c>. A change of any prompt text, order, schema or
/// option fails here, so a refactoring that must leave prompts unchanged (no checkpoint or cached answer invalidated)
/// is proven to. After a deliberate prompt change: <c>RPM_UPDATE_GOLDEN=1 dotnet test tests/Rpm.Evaluation.Tests
/// --filter FullyQualifiedName~PromptGolden</c>, then review the diff of the recorded files.
/// </summary>
public sealed class PromptGoldenTests
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static TheoryData<string> Datasets => ["tags", "ratings", "generation", "choice"];

    public static TheoryData<string, string, int> MethodCases()
    {
        var cases = new TheoryData<string, string, int>();
        foreach (string dataset in new[] { "tags", "ratings", "generation", "choice" })
        {
            foreach (string method in EvaluationMethods.Names)
            {
                cases.Add(dataset, method, 1);
                if (method.StartsWith("rpm", StringComparison.Ordinal))
                {
                    cases.Add(dataset, method, 5);
                }
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(MethodCases))]
    public async Task Every_prompt_an_evaluation_method_sends_is_as_recorded(string datasetName, string methodName, int batchSize)
    {
        EvaluationDataset dataset = Dataset(datasetName);
        IEvaluationMethod method = EvaluationMethods.Create(methodName);
        if (method.CheckApplicable(dataset) is string reason)
        {
            await VerifyAsync($"{datasetName}.{methodName}.batch{batchSize}", $"not applicable: {reason}\n");
            return;
        }

        var chat = new RecordingChatClient(new EvalChatClient());
        MethodContext context = new()
        {
            Task = dataset.Task,
            ChatClient = chat,
            EmbeddingGenerator = new HashingEmbeddingGenerator(),
            Tokenizer = EvaluationTokenizer.O200kBase,
            BatchSize = batchSize,
        };
        if (method is IDatasetPreparedMethod prepared)
        {
            await prepared.PrepareDatasetAsync(context, dataset, null, CancellationToken.None);
        }

        foreach (EvaluationUser user in dataset.Users)
        {
            object? state = await method.PrepareUserAsync(context, user, CancellationToken.None);
            foreach (EvaluationQuery query in user.Queries)
            {
                await method.AnswerAsync(context, user, state, query, CancellationToken.None);
            }
        }

        await VerifyAsync($"{datasetName}.{methodName}.batch{batchSize}", chat.Transcript());
    }

    [Theory]
    [MemberData(nameof(Datasets))]
    public async Task Every_prompt_of_an_update_and_a_chat_turn_is_as_recorded(string datasetName)
    {
        EvaluationDataset dataset = Dataset(datasetName);
        EvaluationUser user = dataset.Users[0];
        var chat = new RecordingChatClient(new EvalChatClient());
        var pipeline = new RpmPipeline(chat, new HashingEmbeddingGenerator(), new RpmOptions { Tokenizer = EvaluationTokenizer.O200kBase });
        await pipeline.BuildUserModelAsync(user.Id, dataset.Task, user.History.Take(user.History.Count - 1));
        chat.Clear();

        await pipeline.AddHistoryAsync(user.Id, [user.History[^1]]);
        var transcript = new StringBuilder("## update\n").Append(chat.Transcript());
        chat.Clear();
        foreach (RpmPersonalizationMode mode in Enum.GetValues<RpmPersonalizationMode>())
        {
            RpmPersonalization personalization = (await pipeline.PersonalizeAsync(user.Id, user.Queries[0].Input, mode))!;
            transcript.Append($"## chat turn, {mode}\n").Append(chat.Transcript()).Append("### instructions added\n").Append(personalization.Instructions).Append('\n');
            chat.Clear();
        }

        await VerifyAsync($"{datasetName}.update-and-chat", transcript.ToString());
    }

    private static EvaluationDataset Dataset(string name) => name switch
    {
        "tags" => SmallData.Tags(),
        "ratings" => SmallData.Ratings(),
        "generation" => new EvaluationDataset("generation", LampTaskSpec.Lamp5.Task,
        [
            new EvaluationUser("u1", "u1",
            [
                new("p1", "Generate a title for the following abstract of a paper: We study retrieval for personalized language models.", "Retrieval for Personal Models"),
                new("p2", "Generate a title for the following abstract of a paper: A benchmark of user histories for language model personalization.", "A Personalization Benchmark"),
                new("p3", "Generate a title for the following abstract of a paper: Reasoning paths explain why a user answers the way they do.", "Reasoning Paths of Users"),
                new("p4", "Generate a title for the following abstract of a paper: Factor statistics summarize a user's tendencies.", "Factors and Propensities"),
            ],
            [new EvaluationQuery("q1", "Generate a title for the following abstract of a paper: Black-box models can be personalized at the level of reasoning.", "Reasoning-Level Personalization")]),
        ]),
        "choice" => new EvaluationDataset("choice", RpmTask.MultipleChoice("opinions", "Answer the survey question as this respondent would.", ["Agree", "Neutral", "Disagree"]),
        [
            new EvaluationUser("c1", "c1",
            [
                new("s1", "Should cities build more bike lanes?", "Agree"),
                new("s2", "Is remote work good for society?", "Neutral", options: ["Very good", "Neutral", "Very bad"]),
                new("s3", "Should museums be free?", "Agree"),
                new("s4", "Is nuclear power safe?", "Disagree"),
            ],
            [new EvaluationQuery("q1", "Should public transport be free?", "Agree", ["Agree", "Neutral", "Disagree"])]),
        ]),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    private static async Task VerifyAsync(string name, string actual)
    {
        // Found from the repository root: a CI build maps source paths away, so [CallerFilePath] cannot be used.
        string path = Path.Combine(TestFiles.Root, "tests", "Rpm.Evaluation.Tests", "Golden", "prompts", name + ".txt");
        if (Environment.GetEnvironmentVariable("RPM_UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"No recorded prompts at {path}: run with RPM_UPDATE_GOLDEN=1 to record them.");
        string expected = (await File.ReadAllTextAsync(path)).ReplaceLineEndings("\n");
        if (expected == actual)
        {
            return;
        }

        string[] want = expected.Split('\n');
        string[] got = actual.Split('\n');
        int line = 0;
        while (line < want.Length && line < got.Length && want[line] == got[line])
        {
            line++;
        }

        Assert.Fail($"The prompts of '{name}' differ from {path} at line {line + 1}:\n  recorded: {(line < want.Length ? want[line] : "(end)")}\n  sent:     {(line < got.Length ? got[line] : "(end)")}");
    }

    /// <summary>Records every request that reaches the model as text (messages, instructions, response format, options), in an order independent of concurrency.</summary>
    private sealed class RecordingChatClient(IChatClient inner) : DelegatingChatClient(inner)
    {
        private readonly List<string> _requests = [];
        private readonly Lock _gate = new();

        public void Clear()
        {
            lock (_gate)
            {
                _requests.Clear();
            }
        }

        public string Transcript()
        {
            lock (_gate)
            {
                var text = new StringBuilder();
                foreach (string request in _requests.Order(StringComparer.Ordinal))
                {
                    text.Append(request);
                }

                return text.ToString();
            }
        }

        public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            List<ChatMessage> list = [.. messages];
            string request = Describe(list, options);
            lock (_gate)
            {
                _requests.Add(request);
            }

            return base.GetResponseAsync(list, options, cancellationToken);
        }

        private static string Describe(List<ChatMessage> messages, ChatOptions? options)
        {
            var text = new StringBuilder("### request\n");
            if (options is not null)
            {
                text.Append("instructions: ").Append(options.Instructions ?? "(none)").Append('\n');
                text.Append("model: ").Append(options.ModelId ?? "(default)").Append("; temperature: ").Append(options.Temperature?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(default)")
                    .Append("; max output tokens: ").Append(options.MaxOutputTokens?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(default)").Append('\n');
                if (options.AdditionalProperties is { Count: > 0 } properties)
                {
                    foreach (KeyValuePair<string, object?> property in properties.OrderBy(p => p.Key, StringComparer.Ordinal))
                    {
                        text.Append("property ").Append(property.Key).Append(": ").Append(property.Value).Append('\n');
                    }
                }

                switch (options.ResponseFormat)
                {
                    case ChatResponseFormatJson { Schema: { } schema } json:
                        text.Append("response format: json schema '").Append(json.SchemaName).Append("' (").Append(json.SchemaDescription).Append(")\n")
                            .Append(JsonSerializer.Serialize(schema, Indented)).Append('\n');
                        break;
                    case ChatResponseFormatJson:
                        text.Append("response format: json\n");
                        break;
                    case ChatResponseFormatText:
                        text.Append("response format: text\n");
                        break;
                }

                if (options.RawRepresentationFactory is not null)
                {
                    text.Append("raw representation factory: set\n");
                }
            }

            foreach (ChatMessage message in messages)
            {
                text.Append("[").Append(message.Role.Value).Append("]\n").Append(message.Text).Append('\n');
            }

            return text.ToString();
        }
    }
}
