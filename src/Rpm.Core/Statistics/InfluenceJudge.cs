using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Rpm;

/// <summary>The default <see cref="IInfluenceJudge"/>: one chat call for the items it is given, structured output, validated.</summary>
public sealed class InfluenceJudge : IInfluenceJudge
{
    private static readonly string?[] Polarities = ["positive", "neutral", "negative", null];

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
            RpmStage.InfluenceJudgment,
            string.Join(",", judged.Select(i => i.Item.Id)),
            RpmPrompts.InfluenceJudgment(task, judged, _budget),
            RpmJsonContext.Default.InfluenceBatchOutput,
            (output, context) => Validate(output, judged, context),
            schema =>
            {
                SchemaEdits.SetEnum(schema, [.. judged.Select(i => i.Item.Id)], "items", "[]", "itemId");
                SchemaEdits.SetEnum(schema, [.. judged.SelectMany(i => i.Features).Select(f => f.Name).Distinct(StringComparer.Ordinal)], "items", "[]", "judgments", "[]", "feature");
                SchemaEdits.SetType(schema, "boolean", "items", "[]", "judgments", "[]", "influential");
                SchemaEdits.SetEnum(schema, Polarities, "items", "[]", "judgments", "[]", "polarity");
            },
            cancellationToken).ConfigureAwait(false);

        Dictionary<string, ItemFeatures> byId = response.Result.ToDictionary(i => i.Item.Id, StringComparer.Ordinal);
        return new InfluenceJudgment([.. items.Select(i => byId.GetValueOrDefault(i.Item.Id) ?? i)], response.Usage) { Diagnostics = response.Diagnostics };
    }

    // Every feature of every item needs "influential", and an influential one its "polarity": a missing judgment is
    // repaired, and on the last attempt left unknown (null), never read as "not influential".
    private static OutputValidation<IReadOnlyList<ItemFeatures>> Validate(InfluenceBatchOutput output, IReadOnlyList<ItemFeatures> items, OutputValidationContext context)
    {
        var byId = new Dictionary<string, InfluenceItemOutput>(StringComparer.Ordinal);
        foreach (InfluenceItemOutput item in output.Items ?? [])
        {
            if (item?.ItemId is not null)
            {
                byId.TryAdd(item.ItemId.Trim(), item);
            }
        }

        var result = new List<ItemFeatures>(items.Count);
        int missing = 0;
        foreach (ItemFeatures item in items)
        {
            var judgments = new Dictionary<string, InfluenceJudgmentOutput>(StringComparer.OrdinalIgnoreCase);
            if (byId.TryGetValue(item.Item.Id, out InfluenceItemOutput? answer))
            {
                foreach (InfluenceJudgmentOutput judgment in answer.Judgments ?? [])
                {
                    if (!string.IsNullOrWhiteSpace(judgment?.Feature))
                    {
                        judgments[judgment.Feature.Trim()] = judgment;
                    }
                }
            }
            else if (!context.IsLastAttempt)
            {
                return OutputValidation<IReadOnlyList<ItemFeatures>>.Invalid($"\"items\" must have an entry for the item '{item.Item.Id}'.");
            }

            var features = new List<Feature>(item.Features.Count);
            foreach (Feature feature in item.Features)
            {
                bool? influential = judgments.GetValueOrDefault(feature.Name)?.Influential;
                FeaturePolarity? polarity = null;
                if (influential is null)
                {
                    if (!context.IsLastAttempt)
                    {
                        return OutputValidation<IReadOnlyList<ItemFeatures>>.Invalid($"Item '{item.Item.Id}': the feature '{feature.Name}' needs \"influential\": true or false.");
                    }

                    missing++;
                }
                else if (influential == true)
                {
                    if (Enum.TryParse(judgments[feature.Name].Polarity, ignoreCase: true, out FeaturePolarity parsed) && Enum.IsDefined(parsed))
                    {
                        polarity = parsed;
                    }
                    else if (!context.IsLastAttempt)
                    {
                        return OutputValidation<IReadOnlyList<ItemFeatures>>.Invalid(
                            $"Item '{item.Item.Id}': the influential feature '{feature.Name}' needs \"polarity\": \"positive\", \"neutral\" or \"negative\".");
                    }
                    else
                    {
                        missing++;
                    }
                }

                features.Add(new Feature(feature.Name, feature.Context, feature.Factor, influential, polarity));
            }

            result.Add(new ItemFeatures(item.Item, features));
        }

        return OutputValidation<IReadOnlyList<ItemFeatures>>.Valid(result, missing == 0 ? null : new BuildDiagnostics { MissingJudgments = missing });
    }
}
