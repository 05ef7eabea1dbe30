using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Rpm.Evaluation;

/// <summary>
/// The answer prompt of RPM's ablation arms without reasoning paths (<see cref="RpmAblation.NoExamples"/>,
/// <see cref="RpmAblation.Pairs"/>, <see cref="RpmAblation.PairsCot"/>): RPM's stage-7 prompt with the parts the arm
/// leaves out removed. The query, its features and the factor statistics are shown in RPM's own shapes
/// (<see cref="PromptData"/>); the chain-of-thought sentence is the one every baseline's CoT variant uses.
/// </summary>
internal static class RpmAblationPrompts
{
    public static List<ChatMessage> Answer(MethodContext context, UserModel model, EvaluationQuery query, IReadOnlyList<Feature> features, IReadOnlyList<RetrievedExample>? examples, bool chainOfThought)
    {
        RpmTask task = context.Task;
        var system = new List<string>
        {
            "You predict how one particular user answers a new input.",
            PromptRules.TaskLine(task),
            "The data holds the new input (\"query\"), its features tagged with the user's factors (\"queryFeatures\"), the statistics of the user's factors over the user's history (\"factors\")" +
            (examples is null ? "." : ", and the user's most similar past inputs (\"examples\", most similar first), each with the answer the user gave (\"userAnswer\")."),
        };
        system.AddRange(PromptRules.StatisticsRules(task));
        system.Add("Features tagged \"unassigned\" fit none of the user's factors: no statistics exist for them, so do not assume any.");
        if (chainOfThought)
        {
            system.Add(BaselinePrompts.CotInstruction);
        }

        system.Add(PromptRules.AnswerRule(task));
        system.Add(PromptRules.DataRule);
        system.Add(chainOfThought
            ? "Reply with one JSON object: {\"reasoning\": \"...\", \"answer\": \"...\"}."
            : "Reply with one JSON object: {\"answer\": \"...\"}.");

        var data = new JsonObject { ["query"] = BaselinePrompts.Fit(context, query.Input) };
        PromptRules.AddOptions(data, task, query.Options);
        data["queryFeatures"] = PromptData.Features(features);
        data["factors"] = PromptData.FactorStatistics(task, model.Statistics);
        if (examples is not null)
        {
            var list = new JsonArray();
            foreach (RetrievedExample example in examples)
            {
                var node = new JsonObject { ["input"] = BaselinePrompts.Fit(context, example.Path.Item.Input) };
                PromptRules.AddOptions(node, task, example.Path.Item.Options);
                node["similarity"] = Math.Round(example.Similarity, 3);
                node["userAnswer"] = BaselinePrompts.Fit(context, example.Path.Item.Output);
                list.Add(node);
            }

            data["examples"] = list;
        }

        return PromptRules.Messages(system, data);
    }
}
