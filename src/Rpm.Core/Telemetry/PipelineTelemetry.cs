using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Rpm;

/// <summary>
/// What the pipeline reports around its stages: the operation and stage spans (a failed one with error status and the
/// exception), the log category <c>Rpm.RpmPipeline</c>, the meter's instruments, and the rule for user ids in all of them.
/// </summary>
internal sealed class PipelineTelemetry
{
    private readonly RpmOptions _options;

    public PipelineTelemetry(RpmOptions options, ILoggerFactory? loggerFactory, IMeterFactory? meterFactory)
    {
        _options = options;
        Logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<RpmPipeline>();
        Metrics = RpmMetrics.For(meterFactory);
    }

    public ILogger Logger { get; }

    public RpmMetrics Metrics { get; }

    public TimeProvider Time => _options.TimeProvider;

    /// <summary>Gets the <c>rpm.operation</c> attribute of a build (<c>build</c>) or update (<c>add_history</c>).</summary>
    public static KeyValuePair<string, object?> Operation(string operation) => new("rpm.operation", operation);

    /// <summary>Gets how a user appears in spans and log messages: pseudonymized unless <see cref="RpmOptions.EmitRawUserIds"/> is set.</summary>
    public string UserId(string userId) => _options.EmitRawUserIds ? userId : RpmTelemetry.PseudonymizeUserId(userId);

    /// <summary>Replaces the quoted user id in an exception's text (the library quotes ids as <c>'id'</c>) with the pseudonym.</summary>
    public string Scrub(string text, string userId) =>
        _options.EmitRawUserIds ? text : text.Replace($"'{userId}'", $"'{RpmTelemetry.PseudonymizeUserId(userId)}'", StringComparison.Ordinal);

    /// <summary>
    /// Runs an operation (<c>rpm.build</c>, <c>rpm.add_history</c>, <c>rpm.respond</c>) in a span of its own for a user, and
    /// measures its duration; a failure is recorded on the span and in the duration's <c>error.type</c>.
    /// </summary>
    /// <param name="name">The span's name.</param>
    /// <param name="userId">The user.</param>
    /// <param name="duration">The histogram of the operation's duration.</param>
    /// <param name="attribute">The duration's attribute, from the result (the default on failure).</param>
    /// <param name="run">The operation, given its span.</param>
    public async Task<T> OperationAsync<T>(string name, string userId, Histogram<double> duration, Func<T?, KeyValuePair<string, object?>> attribute, Func<Activity?, Task<T>> run)
    {
        using Activity? activity = RpmTelemetry.Source.StartActivity(name);
        activity?.SetTag(RpmTelemetry.UserIdAttribute, UserId(userId));
        long started = Time.GetTimestamp();
        try
        {
            T result = await run(activity).ConfigureAwait(false);
            RecordDuration(duration, started, null, attribute(result));
            return result;
        }
        catch (Exception ex) when (ex is not RpmCallDeferredException)
        {
            Failed(activity, ex, userId);
            RecordDuration(duration, started, ex, attribute(default));
            throw;
        }
    }

    /// <summary>Runs a stage in a span of its own, which records the failure when the stage throws.</summary>
    public async Task<T> StageAsync<T>(string stage, string userId, int items, Func<Task<T>> run)
    {
        using Activity? activity = RpmTelemetry.Source.StartActivity("rpm." + stage);
        activity?.SetTag(RpmTelemetry.StageAttribute, stage);
        activity?.SetTag("rpm.items", items);
        try
        {
            return await run().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpmCallDeferredException)
        {
            // A deferred stage (its answers come later, e.g. from a batch) has not failed.
            Failed(activity, ex, userId);
            throw;
        }
    }

    /// <summary>Runs a step in a span of its own (e.g. <c>rpm.store.read</c>), which records the failure when the step throws.</summary>
    public async Task<T> SpanAsync<T>(string name, Func<Activity?, Task<T>> run)
    {
        using Activity? activity = RpmTelemetry.Source.StartActivity(name);
        try
        {
            return await run(activity).ConfigureAwait(false);
        }
        catch (Exception ex) when (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            activity.SetTag("error.type", ex.GetType().FullName);
            throw;
        }
    }

    /// <summary>Marks a span failed: error status, <c>error.type</c>, and the exception as an event, with the user id scrubbed from its text.</summary>
    public void Failed(Activity? activity, Exception exception, string userId)
    {
        if (activity is null)
        {
            return;
        }

        string type = exception.GetType().FullName ?? exception.GetType().Name;
        activity.SetStatus(ActivityStatusCode.Error, Scrub(exception.Message, userId));
        activity.SetTag("error.type", type);

        // Given here, these tags replace the ones AddException would write from the raw exception text.
        activity.AddException(exception, new TagList
        {
            { "exception.type", type },
            { "exception.message", Scrub(exception.Message, userId) },
            { "exception.stacktrace", Scrub(exception.ToString(), userId) },
        });
    }

    /// <summary>Reports a build that found finished stage results of an earlier run in its checkpoint store (none: nothing to report).</summary>
    public void Resumed(string operation, string userId, int results, Activity? activity)
    {
        if (results == 0)
        {
            return;
        }

        activity?.SetTag("rpm.resumed_results", results);
        Metrics.ResumedResults.Add(results, Operation(operation));
        RpmLog.BuildResumed(Logger, operation, UserId(userId), results);
    }

    /// <summary>Reports a history item left out of a model because the model refused it or a filter stopped it (a call just made).</summary>
    public void Excluded(string userId, string itemId, RpmStage stage, string reason)
    {
        string stageName = RpmTelemetry.StageName(stage);
        Metrics.Degraded(stageName, new BuildDiagnostics { ItemsExcluded = 1 });
        RpmLog.ItemExcluded(Logger, itemId, UserId(userId), stageName, reason);
    }

    /// <summary>Reports where a factor construction just run (not read back from a checkpoint) fell back on rules.</summary>
    public void FactorRules(string userId, BuildDiagnostics diagnostics)
    {
        var rules = new BuildDiagnostics
        {
            FeaturesNotShownToFactorConstruction = diagnostics.FeaturesNotShownToFactorConstruction,
            FeaturesAssignedByRule = diagnostics.FeaturesAssignedByRule,
            FeaturesLeftUnassigned = diagnostics.FeaturesLeftUnassigned,
            FactorsFromSuggestedCategories = diagnostics.FactorsFromSuggestedCategories,
        };
        if (rules.IsClean)
        {
            return;
        }

        Metrics.Degraded(RpmTelemetry.StageName(RpmStage.FactorConstruction), rules);
        if (rules.FactorsFromSuggestedCategories)
        {
            RpmLog.FactorsFromSuggestedCategories(Logger, UserId(userId), Scrub(diagnostics.FactorFallbackReason ?? "no reason given", userId));
        }

        if (rules.FeaturesAssignedByRule > 0 || rules.FeaturesLeftUnassigned > 0)
        {
            RpmLog.FeaturesAssignedByRule(Logger, UserId(userId), rules.FeaturesAssignedByRule, rules.FeaturesNotShownToFactorConstruction, rules.FeaturesLeftUnassigned);
        }
    }

    /// <summary>Reports an update that rebuilds the factors because too many new features fit none.</summary>
    public void FactorsRebuilt(string userId, int newItems, int unassigned, int newFeatures, double threshold) =>
        RpmLog.FactorsRebuilt(Logger, newItems, UserId(userId), unassigned, newFeatures, threshold);

    /// <summary>Reports a saved model: what the build or update cost and what it degraded.</summary>
    public void Completed(string operation, UserModel model, ModelUsage usage, BuildDiagnostics diagnostics, Activity? activity)
    {
        activity?.SetTag("rpm.model_calls", usage.Calls);
        RpmLog.BuildCompleted(Logger, operation, UserId(model.UserId), model.Version, model.Paths.Count, usage.Calls, usage.InputTokens, usage.OutputTokens, diagnostics.ToString());
    }

    /// <summary>Reports a response made without the chat model, which failed at a stage.</summary>
    public void FellBack(string userId, RpmQuery query, RpmStageException failure, Activity? activity)
    {
        string stage = RpmTelemetry.StageName(failure.Stage);
        activity?.SetTag("rpm.fallback", stage);
        Metrics.Fallbacks.Add(1, new KeyValuePair<string, object?>(RpmTelemetry.StageAttribute, stage));
        RpmLog.Fallback(Logger, query.Id, UserId(userId), stage, Scrub(failure.Message, userId));
    }

    /// <summary>Records an operation's duration, with <c>error.type</c> when it failed.</summary>
    private void RecordDuration(Histogram<double> histogram, long started, Exception? error, KeyValuePair<string, object?> attribute)
    {
        if (!histogram.Enabled)
        {
            return;
        }

        var tags = new TagList { attribute };
        if (error is not null)
        {
            tags.Add("error.type", error.GetType().FullName);
        }

        histogram.Record(Time.GetElapsedTime(started).TotalSeconds, tags);
    }
}
