using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Rpm.Evaluation;

/// <summary>
/// Fermi's two prompts: the optimizer's (the user's scored examples and the memory of prompts with their scores and
/// mis-aligned answers, asking for new prompts) and the answer prompt (a personalized prompt and one input), used
/// alike to score a prompt on history items and to answer a query. Both follow <see cref="PromptRules"/>: the
/// personalized prompts, written by the model from user text, travel in the data block as a description of the user.
/// </summary>
internal static class FermiPrompts
{
    public const string PromptsSchema = "fermi_prompts";

    /// <summary>The words per prompt the optimizer is asked to stay within.</summary>
    public const int MaxPromptWords = 150;

    public static List<ChatMessage> Answer(MethodContext context, string input, IReadOnlyList<string>? options, string userPrompt, bool chainOfThought)
    {
        RpmTask task = context.Task;
        var system = new List<string>
        {
            "You predict how one particular user answers a new input.",
            PromptRules.TaskLine(task),
            "The data holds the new input (\"query\") and a description of this user written from the user's history (\"userPrompt\"): what the user prefers and how the user answers. Use it to answer as this user would.",
        };
        if (chainOfThought)
        {
            system.Add(BaselinePrompts.CotInstruction);
        }

        system.Add(PromptRules.AnswerRule(task));
        system.Add(PromptRules.DataRule);
        system.Add(chainOfThought
            ? "Reply with one JSON object: {\"reasoning\": \"...\", \"answer\": \"...\"}."
            : "Reply with one JSON object: {\"answer\": \"...\"}.");
        var data = new JsonObject { ["query"] = BaselinePrompts.Fit(context, input) };
        PromptRules.AddOptions(data, task, options);
        data["userPrompt"] = userPrompt;
        return PromptRules.Messages(system, data);
    }

    /// <summary>The optimizer's prompt: the scoring items (numbered from 1), the memory (best first) and how many new prompts to write.</summary>
    public static List<ChatMessage> Optimize(MethodContext context, IReadOnlyList<HistoryItem> items, IReadOnlyList<FermiCandidate> memory, FermiOptions options)
    {
        RpmTask task = context.Task;
        int count = options.PromptsPerIteration;
        var system = new List<string>
        {
            "You write personalized prompts: descriptions of one particular user that make a model answer new inputs as this user would.",
            PromptRules.TaskLine(task),
            "The data holds some of the user's past inputs with the answers the user gave (\"examples\", numbered by \"item\")" + (memory.Count == 0
                ? ", and no prompts tried yet (\"memory\" is empty)."
                : ", and the prompts tried so far (\"memory\", best first), each with its score on those examples (" + ScoreRule(task) + ") " +
                  "and the examples where the model's answer under that prompt was mis-aligned with the user's (\"misaligned\": the item and the model's answer, the worst first)."),
            (count == 1 ? "Write 1 new prompt" : $"Write {count} new prompts") + (memory.Count == 0 ? string.Empty : ", each different from the prompts in memory,") +
            " that would make the model's answers agree with this user's: infer from the examples" + (memory.Count == 0 ? string.Empty : ", and above all from the mis-aligned answers,") +
            " what this user prefers and how this user answers, and state it so that it applies to new inputs. " +
            $"Each prompt speaks about the user in the third person, in at most {MaxPromptWords} words; the model will see it together with one new input and nothing else.",
            PromptRules.DataRule,
            $"Reply with one JSON object: {{\"prompts\": [\"...\"]}} holding exactly {count} prompt{(count == 1 ? string.Empty : "s")}.",
        };

        var examples = new JsonArray();
        for (int i = 0; i < items.Count; i++)
        {
            var node = new JsonObject { ["item"] = i + 1, ["input"] = BaselinePrompts.Fit(context, items[i].Input) };
            PromptRules.AddOptions(node, task, items[i].Options);
            node["userAnswer"] = BaselinePrompts.Fit(context, items[i].Output);
            examples.Add(node);
        }

        var list = new JsonArray();
        foreach (FermiCandidate candidate in memory)
        {
            var misaligned = new JsonArray();
            foreach (int i in candidate.Misaligned(options.MisalignedShown))
            {
                misaligned.Add(new JsonObject { ["item"] = i + 1, ["modelAnswer"] = BaselinePrompts.Fit(context, candidate.Answers[i]) });
            }

            list.Add(new JsonObject
            {
                ["prompt"] = candidate.Prompt,
                ["score"] = Math.Round(candidate.Score, 3),
                ["misaligned"] = misaligned,
            });
        }

        return PromptRules.Messages(system, new JsonObject { ["examples"] = examples, ["memory"] = list });
    }

    private static string ScoreRule(RpmTask task) => task.Kind switch
    {
        RpmTaskKind.Rating => string.Create(CultureInfo.InvariantCulture, $"from 0 to 1, higher is better: 1 minus the mean distance from the user's rating as a share of the scale's range"),
        RpmTaskKind.Generation => "from 0 to 1, higher is better: the mean ROUGE-L F-measure against the user's text",
        _ => "from 0 to 1, higher is better: the share of examples answered as the user answered",
    };
}
