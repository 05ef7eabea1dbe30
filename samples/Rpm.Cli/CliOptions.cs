using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Rpm.Evaluation;

namespace Rpm.Cli;

/// <summary>The options of the rpm commands, each parsed with a message that names it in plain words.</summary>
internal static class CliOptions
{
    // Data and task.
    internal static readonly Option<string?> DataOption = new("--data") { Description = "A folder with a LaMP questions/outputs pair (and optionally task.json), or an opinions file (rpm-opinions/1)." };
    internal static readonly Option<string?> QuestionsOption = new("--questions") { Description = "A LaMP *_questions.json file (with --golds), instead of --data." };
    internal static readonly Option<string?> GoldsOption = new("--golds") { Description = "A LaMP *_outputs.json file: the golds." };
    internal static readonly Option<string?> TaskOption = new("--task") { Description = "A LaMP task (LaMP-1 ... LaMP-7) or a task.json file; default: the folder's task.json, else the task named in the outputs file." };
    internal static readonly Option<string?> KindOption = new("--kind") { Description = "Describe a task instead: classification, rating, generation or multiple-choice." };
    internal static readonly Option<string?> LabelsOption = new("--labels") { Description = "Classification labels, comma-separated." };
    internal static readonly Option<string?> ScaleOption = new("--scale") { Description = "Rating scale min:max:step, e.g. 0.5:5:0.5." };
    internal static readonly Option<string[]> InputFieldOption = new("--input-field") { Description = "Profile field(s) that make a history item's input.", AllowMultipleArgumentsPerToken = true };
    internal static readonly Option<string?> OutputFieldOption = new("--output-field") { Description = "Profile field that holds the user's answer." };
    internal static readonly Option<string?> ContentMarkerOption = new("--content-marker") { Description = "With --kind: the text after which a query's content starts (e.g. \"movie:\"); retrieval keys on the content. Default: the whole input." };
    internal static readonly Option<string?> DescriptionOption = new("--description") { Description = "What the user does, for the model's prompts." };
    internal static readonly Option<int?> UsersOption = new("--users") { Description = "Evaluate only the first N users (people) of the data.", CustomParser = r => WholeNumber(r, "--users", minimum: 1) };

    // Model.
    internal static readonly Option<string?> EndpointOption = new("--endpoint") { Description = "OpenAI-compatible base URL (env RPM_ENDPOINT), e.g. http://localhost:11434/v1." };
    internal static readonly Option<string?> ModelOption = new("--model") { Description = "Chat model name (env RPM_MODEL); default gpt-4o-mini." };
    internal static readonly Option<string?> ApiKeyOption = new("--api-key") { Description = "API key (env RPM_API_KEY)." };
    internal static readonly Option<string?> EmbeddingEndpointOption = new("--embedding-endpoint") { Description = "OpenAI-compatible embeddings URL (env RPM_EMBEDDING_ENDPOINT); default: the local MiniLM model." };
    internal static readonly Option<string?> EmbeddingModelOption = new("--embedding-model") { Description = "Embedding model name at that endpoint (env RPM_EMBEDDING_MODEL)." };
    internal static readonly Option<double> TemperatureOption = new("--temperature") { Description = "Sampling temperature of every call (0 to 2).", DefaultValueFactory = _ => 0, CustomParser = r => Number(r, "--temperature", 0, 2) ?? 0 };
    internal static readonly Option<bool> JsonModeOption = new("--json-mode") { Description = "Ask for JSON mode with the schema in the prompt, for servers that reject JSON schemas." };
    internal static readonly Option<bool> NoStrictOption = new("--no-strict") { Description = "Do not ask the endpoint to enforce schemas strictly (for servers that reject \"strict\": true)." };
    internal static readonly Option<int> RetryAfterCapOption = new("--retry-after-cap") { Description = "Longest Retry-After wait (seconds) honoured on a 429; a longer one fails the call. Every rpm command is batch work, so all its calls (queries too) get the patient build retry profile: 8 retries, backoff from 2 s to 30 s.", DefaultValueFactory = _ => 60, CustomParser = r => WholeNumber(r, "--retry-after-cap", minimum: 0) ?? 60 };

    // Run and cost.
    internal static readonly Option<string?> MethodsOption = new("--methods")
    {
        Description = "Comma-separated methods; default: " + string.Join(",", EvaluationMethods.DefaultNames) +
            ". By name also: " + string.Join(",", EvaluationMethods.Names.Except(EvaluationMethods.DefaultNames)) + " (the paper's ablation arms, and Fermi).",
    };
    internal static readonly Option<string?> OutOption = new("--out") { Description = "Output folder (eval) or file (score, build)." };
    internal static readonly Option<string?> CacheOption = new("--cache") { Description = "The answer cache file (a re-run pays only for what is not in it); default for eval <out>/answers.sqlite, for build and ask rpm-output/answers.sqlite." };
    internal static readonly Option<int> ConcurrencyOption = new("--concurrency") { Description = "Users evaluated at once.", DefaultValueFactory = _ => 4, CustomParser = r => WholeNumber(r, "--concurrency", minimum: 1, maximum: 256) ?? 4 };
    internal static readonly Option<int> BatchSizeOption = new("--batch-size")
    {
        Description = "History items per call of RPM's feature and reasoning stages: 1 (default, the paper's: 2N + 1 calls per user) up to 50 (10: about 2N/10 + 1).",
        DefaultValueFactory = _ => 1,
        CustomParser = r => WholeNumber(r, "--batch-size", minimum: 1, maximum: 50) ?? 1,
    };

    internal static readonly Option<int> KOption = new("--k") { Description = "K, examples retrieved per query.", DefaultValueFactory = _ => 3, CustomParser = r => WholeNumber(r, "--k", minimum: 1, maximum: 100) ?? 3 };
    // No default price: a model is priced only from these two, or from PriceTable (OpenAI's endpoint, listed models).
    internal static readonly Option<decimal?> PriceInOption = new("--price-in") { Description = "Price per million input tokens, with --price-out (0 0 for a model you run yourself). Default: OpenAI's list price for the few OpenAI models rpm knows, at OpenAI's endpoint; otherwise the cost is unknown.", CustomParser = r => (decimal?)Number(r, "--price-in", 0, 1_000_000) };
    internal static readonly Option<decimal?> PriceOutOption = new("--price-out") { Description = "Price per million output tokens, with --price-in.", CustomParser = r => (decimal?)Number(r, "--price-out", 0, 1_000_000) };

    // Fermi's knobs (rpm eval and rpm estimate; the defaults are FermiOptions').
    internal static readonly Option<int> FermiIterationsOption = new("--fermi-iterations") { Description = "Fermi: optimization iterations per user (T).", DefaultValueFactory = _ => new FermiOptions().Iterations, CustomParser = r => WholeNumber(r, "--fermi-iterations", minimum: 1, maximum: 100) ?? new FermiOptions().Iterations };
    internal static readonly Option<int> FermiMemoryOption = new("--fermi-memory") { Description = "Fermi: best prompts kept in memory and chosen from per query (L).", DefaultValueFactory = _ => new FermiOptions().MemorySize, CustomParser = r => WholeNumber(r, "--fermi-memory", minimum: 1, maximum: 100) ?? new FermiOptions().MemorySize };
    internal static readonly Option<int> FermiPromptsOption = new("--fermi-prompts") { Description = "Fermi: new prompts written per iteration (P).", DefaultValueFactory = _ => new FermiOptions().PromptsPerIteration, CustomParser = r => WholeNumber(r, "--fermi-prompts", minimum: 1, maximum: 20) ?? new FermiOptions().PromptsPerIteration };
    internal static readonly Option<int> FermiScoringItemsOption = new("--fermi-scoring-items") { Description = "Fermi: most recent history items every prompt is scored on (S); calls per user are T x (1 + P x S).", DefaultValueFactory = _ => new FermiOptions().ScoringItems, CustomParser = r => WholeNumber(r, "--fermi-scoring-items", minimum: 1, maximum: 1000) ?? new FermiOptions().ScoringItems };

    internal static readonly Option[] FermiKnobs = [FermiIterationsOption, FermiMemoryOption, FermiPromptsOption, FermiScoringItemsOption];

    // Score, build, ask.
    internal static readonly Option<string> PredictionsOption = new("--predictions") { Description = "A predictions file in LaMP's outputs format.", Required = true };
    internal static readonly Option<string?> UserOption = new("--user") { Description = "The user (id as in the data, or the user_id); default the first." };
    internal static readonly Option<string?> UserModelOption = new("--user-model") { Description = "A user model written by rpm build." };
    internal static readonly Option<string?> QuestionOption = new("--question") { Description = "The question to answer (default: the user's first query in the data)." };
    internal static readonly Option<string[]> OptionsOption = new("--option") { Description = "An option of a multiple-choice question (repeat).", AllowMultipleArgumentsPerToken = true };

    internal static double? Number(System.CommandLine.Parsing.ArgumentResult result, string option, double minimum, double maximum)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) && value >= minimum && value <= maximum)
        {
            return value;
        }

        result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option} must be a number from {minimum} to {maximum} (was '{text}')."));
        return null;
    }

    internal static int? WholeNumber(System.CommandLine.Parsing.ArgumentResult result, string option, int minimum, int maximum = int.MaxValue)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= minimum && value <= maximum)
        {
            return value;
        }

        result.AddError(maximum == int.MaxValue
            ? string.Create(CultureInfo.InvariantCulture, $"{option} must be a whole number, {minimum} or more (was '{text}').")
            : string.Create(CultureInfo.InvariantCulture, $"{option} must be a whole number from {minimum} to {maximum} (was '{text}')."));
        return null;
    }

    // --users limits a run over many users; build and ask work on one (--user) and do not show it.
    internal static void AddDataOptions(Command command, bool manyUsers = true)
    {
        foreach (Option option in new Option[] { DataOption, QuestionsOption, GoldsOption, TaskOption, KindOption, LabelsOption, ScaleOption, InputFieldOption, OutputFieldOption, ContentMarkerOption, DescriptionOption })
        {
            command.Options.Add(option);
        }

        if (manyUsers)
        {
            command.Options.Add(UsersOption);
        }
    }

    internal static void AddModelOptions(Command command)
    {
        foreach (Option option in new Option[] { EndpointOption, ModelOption, ApiKeyOption, EmbeddingEndpointOption, EmbeddingModelOption, TemperatureOption, JsonModeOption, NoStrictOption, RetryAfterCapOption })
        {
            command.Options.Add(option);
        }
    }
}
