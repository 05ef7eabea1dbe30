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

    /// <summary>Gets how a user appears in spans and log messages: pseudonymized unless <see cref="RpmOptions.EmitRawUserIds"/> is set.</summary>
    public string UserId(string userId) => _options.EmitRawUserIds ? userId : RpmTelemetry.PseudonymizeUserId(userId);

    /// <summary>Replaces the quoted user id in an exception's text (the library quotes ids as <c>'id'</c>) with the pseudonym.</summary>
    public string Scrub(string text, string userId) =>
        _options.EmitRawUserIds ? text : text.Replace($"'{userId}'", $"'{RpmTelemetry.PseudonymizeUserId(userId)}'", StringComparison.Ordinal);

    /// <summary>Starts an operation span (<c>rpm.build</c>, <c>rpm.add_history</c>, <c>rpm.respond</c>) for a user.</summary>
    public Activity? StartOperation(string name, string userId)
    {
        Activity? activity = RpmTelemetry.Source.StartActivity(name);
        activity?.SetTag(RpmTelemetry.UserIdAttribute, UserId(userId));
        return activity;
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
        catch (Exception ex)
        {
            Failed(activity, ex, userId);
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

    /// <summary>Records an operation's duration, with <c>error.type</c> when it failed.</summary>
    public void RecordDuration(Histogram<double> histogram, long started, Exception? error, KeyValuePair<string, object?> attribute)
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
