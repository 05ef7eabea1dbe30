using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Rpm.Evaluation;
using static Rpm.Cli.CliOptions;
using static Rpm.Cli.CliSupport;
using static Rpm.Cli.RpmCli;

namespace Rpm.Cli;

/// <summary><c>rpm ask</c>: a question answered as one user would, with RPM or, without a model, the model-free predictor.</summary>
internal static class AskCommand
{
    public static Command Create(TextWriter output, TextWriter error, CliServices services)
    {
        var command = new Command("ask", "Answer a question as one user would, with RPM's rationale and retrieved examples (without a model: the model-free predictor).");
        AddDataOptions(command, manyUsers: false);
        AddModelOptions(command);
        foreach (Option option in new Option[] { UserOption, UserModelOption, QuestionOption, OptionsOption, CacheOption, KOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, ct) => Guard(error, async () =>
        {
            string? modelPath = parse.GetValue(UserModelOption);
            UserModel? model = modelPath is null ? null : RpmJson.DeserializeUserModel(await File.ReadAllBytesAsync(modelPath, ct).ConfigureAwait(false));
            EvaluationDataset? dataset = parse.GetValue(DataOption) is null && parse.GetValue(QuestionsOption) is null ? null : await LoadDataAsync(parse, ct).ConfigureAwait(false);
            if (model is null && dataset is null)
            {
                throw new ArgumentException("Give --user-model (from rpm build) or --data (and --user).");
            }

            EvaluationUser? user = dataset is null ? null : FindUser(dataset, parse.GetValue(UserOption) ?? model?.UserId);
            RpmTask task = model?.Task ?? dataset!.Task;
            EvaluationQuery? fromData = user?.Queries.FirstOrDefault();
            string question = parse.GetValue(QuestionOption) ?? fromData?.Input ?? throw new ArgumentException("Give --question.");
            string[] options = parse.GetValue(OptionsOption) ?? [];
            // A question from the data keys on its content, as rpm eval does; a typed question is its own content.
            var query = new RpmQuery(
                question,
                fromData is not null && parse.GetValue(QuestionOption) is null ? fromData.Id : "question",
                options.Length > 0 ? options : (parse.GetValue(QuestionOption) is null ? fromData?.Options : null),
                parse.GetValue(QuestionOption) is null && fromData is not null ? fromData.Content : question);
            EndpointSettings settings = ResolveEndpoint(parse, services);
            using IEmbeddingGenerator<string, Embedding<float>> embeddings = services.CreateEmbeddingGenerator(settings);
            output.WriteLine($"Question: {question}");

            var printer = new ProgressPrinter(error, ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected);
            string? reason = await services.Probe(settings, ct).ConfigureAwait(false)
                ?? await PreflightAsync(services, settings, printer, parse, ct).ConfigureAwait(false);
            IChatClient endpointClient = services.CreateChatClient(settings, printer.Retry);
            if (reason is not null && settings.Endpoint is not null)
            {
                endpointClient.Dispose();
                error.WriteLine($"Model error: {reason}");
                return ModelFailure;
            }

            if (reason is not null)
            {
                endpointClient.Dispose();
                output.WriteLine($"No chat model ({reason}): answering with the model-free predictor instead of RPM.");
                var predictor = new ModelFreePredictor(new FeatureRetriever(embeddings, RpmOptionsFor(parse, settings)), new ModelFreePredictorOptions { RetrievalCount = parse.GetValue(KOption) });
                if (!ModelFreePredictor.Supports(task))
                {
                    output.WriteLine("The model-free predictor cannot write text for a generation task.");
                    output.WriteLine(EndpointSettings.HowToEnable);
                    return NoModel;
                }

                ModelFreePrediction prediction = model is not null
                    ? await predictor.PredictAsync(model, query, null, ct).ConfigureAwait(false)
                    : predictor.Predict(task, user!.History, query, await (await DenseHistoryIndex.CreateAsync(user.History, embeddings, ct).ConfigureAwait(false)).SearchAsync(query.Content, parse.GetValue(KOption), ct).ConfigureAwait(false));
                output.WriteLine($"Answer: {prediction.Answer}");
                output.WriteLine($"Why: {prediction.Explanation}");
                foreach (HistoryNeighbor n in prediction.Neighbors)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  - similarity {n.Similarity:0.000}, answered {n.Item.Output}: {Shorten(n.Item.Input, 120)}"));
                }
            }
            else
            {
                string cache = parse.GetValue(CacheOption) ?? Path.Combine("rpm-output", "answers.sqlite");
                await using SqliteResponseStore store = await services.OpenAnswerCache(cache, ct).ConfigureAwait(false);
                var all = new UsageMeter();
                var sent = new UsageMeter();
                using IChatClient chat = endpointClient.AsBuilder()
                    .UseUsageMetering(null, all)
                    .UseAnswerCache(store, RpmMethod.Scope, settings.Model)
                    .UseUsageMetering(Evaluation.EvaluationTokenizer.O200kBase, sent)
                    .Build();
                var pipeline = new RpmPipeline(chat, embeddings, RpmOptionsFor(parse, settings));
                RpmResponse response;
                try
                {
                    if (model is null)
                    {
                        output.WriteLine($"Building the model of user {user!.Id} first ({2 * user.History.Count + 1} calls, cached in {cache})...");
                        model = await pipeline.BuildUserModelAsync(user.Id, task, user.History, ct).ConfigureAwait(false);
                    }

                    response = await pipeline.RespondAsync(model, query, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (StorageWriteException.Find(ex) is StorageWriteException failure)
                {
                    // Counted once the calls have stopped: those in flight when the disk filled may have lost their answers too.
                    throw failure.WithCounts(store.SavedThisRun, store.FailedWrites);
                }

                output.WriteLine($"Answer: {response.Answer}");
                output.WriteLine($"Rationale: {response.Rationale}");
                output.WriteLine(response.IsFallback ? "Grounding: not checked (a model-free answer, written from the statistics)."
                    : response.IsGrounded ? "Grounding: the rationale is grounded (every statistic it cites was shown; it names only the user's factors)."
                    : "Grounding: the rationale is NOT grounded, even after the repair turn (a value not shown or a factor the user does not have); the answer is kept.");
                output.WriteLine("Query features: " + string.Join("; ", response.QueryFeatures.Select(f => f.ToString())));
                output.WriteLine($"Retrieved examples (K = {response.Examples.Count}):");
                foreach (RetrievedExample example in response.Examples)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  - similarity {example.Similarity:0.000}, answered {example.Path.Item.Output}: {Shorten(example.Path.Item.Input, 120)}"));
                    output.WriteLine($"    reasoning: {example.Path.Reasoning}");
                }

                UsageTotals paid = sent.Snapshot();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Cost of this run: {paid.Calls} calls sent{CacheNote(all.Snapshot(), cache)}, {paid.InputTokens:N0} input + {paid.OutputTokens:N0} output tokens; the answer needed {response.Usage.Calls} calls."));
            }

            if (fromData is not null && parse.GetValue(QuestionOption) is null)
            {
                output.WriteLine($"The user's real answer: {fromData.Gold}");
            }

            return 0;
        }));
        return command;
    }
}
