using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Rpm;

/// <summary>The default <see cref="IInfluenceJudge"/>: one chat call for the items it is given, structured output, validated.</summary>
public sealed class InfluenceJudge : IInfluenceJudge
{
    private readonly StructuredChat _chat;
    private readonly TextBudget _budget;

    /// <summary>Initializes a new instance of the <see cref="InfluenceJudge"/> class.</summary>
    /// <param name="chatClient">The chat model.</param>
    /// <param name="options">The options; validated here.</param>
    /// <param name="loggerFactory">Where repairs and degraded judgments are logged; <see langword="null"/> for none.</param>
    /// <param name="meterFactory">Creates the meter <see cref="RpmTelemetry.MeterName"/>; <see langword="null"/> for a shared static meter.</param>
    /// <exception cref="ArgumentNullException">A model or the options are <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public InfluenceJudge(IChatClient chatClient, RpmOptions options, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _chat = new StructuredChat(chatClient, options, typeof(InfluenceJudge), loggerFactory, meterFactory);
        _budget = new TextBudget(options);
    }

    /// <inheritdoc />
    public async Task<InfluenceJudgment> JudgeAsync(RpmTask task, IReadOnlyList<ItemFeatures> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(items);
        if (task.Kind != RpmTaskKind.Generation)
        {
            throw new ArgumentException($"Influence and polarity are judged for generation tasks only; '{task.Name}' is a {task.Kind} task.", nameof(task));
        }

        if (items.Select(i => i.Item.Id).Distinct(StringComparer.Ordinal).Count() != items.Count)
        {
            throw new ArgumentException("Two items of the judgment share an id.", nameof(items));
        }

        List<ItemFeatures> judged = [.. items.Where(i => i.Features.Count > 0)];
        if (judged.Count == 0)
        {
            return new InfluenceJudgment(items, ModelUsage.None);
        }

        ValidatedChatResponse<IReadOnlyList<ItemFeatures>> response = await _chat.GetAsync(
            new InfluenceJudgmentContract(task, judged, _budget), cancellationToken).ConfigureAwait(false);

        Dictionary<string, ItemFeatures> byId = response.Result.ToDictionary(i => i.Item.Id, StringComparer.Ordinal);
        return new InfluenceJudgment([.. items.Select(i => byId.GetValueOrDefault(i.Item.Id) ?? i)], response.Usage) { Diagnostics = response.Diagnostics };
    }
}
