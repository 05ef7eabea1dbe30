using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// Stage 7 (rpm-method.md): a rationale that applies the user's reasoning patterns and factor statistics to the query,
/// then the final answer, from the query, its features (stage 5), the statistics and the K retrieved reasoning paths
/// (stage 6). The answer is normalized by the task (<see cref="RpmTask.TryNormalizeAnswer"/>); where the task knows its
/// answer values (labels, a rating scale, the query's options) they are an enum of the schema. The rationale's
/// citations are checked as stage 4's are (<see cref="ReasoningGrounding"/>, our addition to the paper).
/// </summary>
internal sealed class GenerationContract : StageContract<AnswerOutput, (string Answer, string Rationale)>
{
    private readonly UserModel _model;
    private readonly RpmQuery _query;
    private readonly IReadOnlyList<Feature> _features;
    private readonly IReadOnlyList<RetrievedExample> _examples;
    private readonly TextBudget _budget;
    private readonly ReasoningGrounding _grounding;

    public GenerationContract(UserModel model, RpmQuery query, IReadOnlyList<Feature> features, IReadOnlyList<RetrievedExample> examples, TextBudget budget)
    {
        _model = model;
        _query = query;
        _features = features;
        _examples = examples;
        _budget = budget;

        // The statistics exactly as the prompt shows them; the examples' similarities are numbers the rationale may give too.
        _grounding = ReasoningGrounding.Of(RpmPrompts.StatisticsNode(model.Task, model.Statistics), examples.Select(e => Similarity(e)));
    }

    public override RpmStage Stage => RpmStage.Generation;

    public override string ItemId => _query.Id;

    public override JsonTypeInfo<AnswerOutput> ReplyType => RpmJsonContext.Default.AnswerOutput;

    // The rationale is free text; its citations name the user's factors, the statistics shown and (labelled tasks) the answers.
    public override IReadOnlyDictionary<string, IReadOnlyList<string?>>? Enums => _grounding.Enums("citations[]");

    public override IReadOnlyList<ChatMessage> WritePrompt() => Prompt(_model, _query, _features, _examples, _budget);

    public override void EditSchema(JsonObject schema)
    {
        _grounding.EditCitationSchema(schema);
        if (_model.Task.GetAnswerValues(_query.Options) is { } values)
        {
            SchemaEdits.SetEnum(schema, [.. values], "answer");
        }
    }

    public override OutputValidation<(string Answer, string Rationale)> Validate(AnswerOutput reply, OutputValidationContext context)
    {
        if (string.IsNullOrWhiteSpace(reply.Rationale))
        {
            return OutputValidation<(string, string)>.Invalid("\"rationale\" must not be empty.");
        }

        if (!_model.Task.TryNormalizeAnswer(reply.Answer, _query.Options, out string answer, out string? error))
        {
            return OutputValidation<(string, string)>.Invalid($"\"answer\" is not valid: {error}");
        }

        // Grounding (our addition to the paper): an ungrounded rationale gets the repair turn with what was wrong; on the
        // last attempt it is kept and flagged (RpmResponse.IsGrounded), never silently accepted.
        string rationale = reply.Rationale.Trim();
        return _grounding.Judge((answer, rationale), rationale, reply.Citations, context, "rationale");
    }

    // As the prompt writes it (rounded to three decimals).
    private static double Similarity(RetrievedExample example) => Math.Round(example.Similarity, 3);

    private static IReadOnlyList<ChatMessage> Prompt(
        UserModel model, RpmQuery query, IReadOnlyList<Feature> features, IReadOnlyList<RetrievedExample> examples, TextBudget budget)
    {
        RpmTask task = model.Task;
        var system = new List<string>
        {
            "You predict how one particular user answers a new input, by reasoning the way this user reasons.",
            PromptRules.TaskLine(task),
            "The data holds the new input (\"query\"), its features tagged with the user's factors, the statistics of the user's factors over the user's history, " +
            $"and the user's most similar past inputs (\"examples\", most similar first), each with its features, the reasoning that explains the user's answer, and that answer.",
            $"Features tagged \"{RpmPrompts.Unassigned}\" fit none of the user's factors: no statistics exist for them, so do not assume any.",
            "First write a rationale, in three to six sentences, that applies this user's reasoning patterns and factor statistics to the new input. Then give the final answer.",
            ReasoningGrounding.CitationRule(task, "rationale"),
        };
        system.AddRange(PromptRules.StatisticsRules(task));
        system.AddRange(
        [
            PromptRules.AnswerRule(task),
            PromptRules.DataRule,
            "Reply with one JSON object: {\"rationale\": \"...\", \"citations\": [...], \"answer\": \"...\"}.",
        ]);

        // The user's statistics (the same in every query of the user) before the query.
        var data = new JsonObject { ["factors"] = RpmPrompts.StatisticsNode(task, model.Statistics), ["query"] = budget.Fit(query.Input) };
        PromptRules.AddOptions(data, task, query.Options);
        data["queryFeatures"] = RpmPrompts.FeaturesNode(features);
        var list = new JsonArray();
        foreach (RetrievedExample example in examples)
        {
            var node = new JsonObject
            {
                ["input"] = budget.Fit(example.Path.Item.Input),
            };
            PromptRules.AddOptions(node, task, example.Path.Item.Options);
            node["similarity"] = Similarity(example);
            node["features"] = RpmPrompts.FeaturesNode(example.Path.Features);
            node["reasoning"] = example.Path.Reasoning;
            node["userAnswer"] = budget.Fit(example.Path.Item.Output);
            list.Add(node);
        }

        data["examples"] = list;
        return PromptRules.Messages(system, data);
    }
}

// The reply; its type name is the schema's name (rpm_answer).

internal sealed class AnswerOutput
{
    [JsonPropertyName("rationale")]
    public required string Rationale { get; set; }

    // Required by the schema (the engine asks again when it is missing), optional here so that a reply without it still reads.
    [JsonPropertyName("citations")]
    public List<ReasoningCitation>? Citations { get; set; }

    [JsonPropertyName("answer")]
    public required string Answer { get; set; }
}
