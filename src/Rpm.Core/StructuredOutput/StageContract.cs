using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// One model call of an RPM stage, whole: the prompt it sends, the reply it asks for, the schema edits and the validation
/// (with the repair hints it phrases). A stage's folder holds its contracts (one class per call shape), so that what a
/// stage sends and accepts reads top to bottom in one file; <see cref="StructuredChat"/> runs any of them.
/// </summary>
/// <typeparam name="TReply">The JSON shape the model returns (declared in the same file, source-generated in <see cref="RpmJsonContext"/>).</typeparam>
/// <typeparam name="TResult">What validation turns the reply into.</typeparam>
internal abstract class StageContract<TReply, TResult> : IOutputContract<TReply, TResult>
    where TReply : class
{
    /// <inheritdoc />
    public abstract RpmStage Stage { get; }

    /// <inheritdoc />
    public abstract string ItemId { get; }

    /// <inheritdoc />
    public abstract JsonTypeInfo<TReply> ReplyType { get; }

    /// <inheritdoc />
    public virtual string? SchemaName => null;

    /// <inheritdoc />
    public virtual IReadOnlyDictionary<string, IReadOnlyList<string?>>? Enums => null;

    /// <inheritdoc />
    public virtual bool EditsSchema => true;

    /// <summary>Writes the call's messages: the stage's instructions in the system message, all user text as data.</summary>
    /// <returns>The prompt.</returns>
    public abstract IReadOnlyList<ChatMessage> WritePrompt();

    /// <inheritdoc />
    public virtual void EditSchema(JsonObject schema)
    {
    }

    /// <inheritdoc />
    public abstract OutputValidation<TResult> Validate(TReply reply, OutputValidationContext context);
}

/// <summary>
/// A call over several items of a stage that also has a one-item call: the reply lists the items by id
/// (<c>{"items": [{"itemId": ..., ...}]}</c>); the ids are an enum of the schema; a reply must answer every item, and
/// each item's part is validated as the one-item call validates it.
/// </summary>
/// <typeparam name="TRequest">One item's request.</typeparam>
/// <typeparam name="TReply">The batch reply.</typeparam>
/// <typeparam name="TItemReply">One item's part of the reply.</typeparam>
/// <typeparam name="TValue">One item's result.</typeparam>
internal abstract class ItemBatchContract<TRequest, TReply, TItemReply, TValue> : StageContract<TReply, IReadOnlyList<TValue>>
    where TReply : class
    where TItemReply : class
{
    protected ItemBatchContract(IReadOnlyList<TRequest> requests)
    {
        Requests = requests;
    }

    /// <summary>Gets the items of the call, in prompt order.</summary>
    public IReadOnlyList<TRequest> Requests { get; }

    /// <inheritdoc />
    public override string ItemId => string.Join(",", Requests.Select(IdOf));

    /// <summary>Gets the repair hint for items the reply leaves out, e.g. <c>"items" must have one entry for every item</c>.</summary>
    protected abstract string MissingItemsRule { get; }

    /// <inheritdoc />
    public override void EditSchema(JsonObject schema)
    {
        EditItemSchema(schema, "items", "[]");
        SchemaEdits.SetEnum(schema, [.. Requests.Select(IdOf)], "items", "[]", "itemId");
    }

    /// <inheritdoc />
    public override OutputValidation<IReadOnlyList<TValue>> Validate(TReply reply, OutputValidationContext context)
    {
        var byId = new Dictionary<string, TItemReply>(StringComparer.Ordinal);
        foreach (TItemReply item in ItemsOf(reply) ?? [])
        {
            if (item is not null && ItemIdOf(item) is { } id && IsAnswered(item))
            {
                byId.TryAdd(id.Trim(), item);
            }
        }

        var missing = Requests.Select(IdOf).Where(id => !byId.ContainsKey(id)).ToList();
        if (missing.Count > 0)
        {
            return OutputValidation<IReadOnlyList<TValue>>.Invalid($"{MissingItemsRule}; missing: {StagePrompt.ListIds(missing)}.");
        }

        var results = new List<TValue>(Requests.Count);
        BuildDiagnostics diagnostics = BuildDiagnostics.None;
        foreach (TRequest request in Requests)
        {
            OutputValidation<TValue> one = ValidateItem(byId[IdOf(request)], request, context);
            if (!one.IsValid)
            {
                return OutputValidation<IReadOnlyList<TValue>>.Invalid($"Item '{IdOf(request)}': {one.Error}");
            }

            results.Add(one.Value!);
            diagnostics += one.Diagnostics;
        }

        return OutputValidation<IReadOnlyList<TValue>>.Valid(results, diagnostics);
    }

    /// <summary>Gets an item's id.</summary>
    protected abstract string IdOf(TRequest request);

    /// <summary>Gets the items of a reply.</summary>
    protected abstract IEnumerable<TItemReply>? ItemsOf(TReply reply);

    /// <summary>Gets the id an item's part of the reply names.</summary>
    protected abstract string? ItemIdOf(TItemReply item);

    /// <summary>Tells whether an item's part counts as an answer (e.g. a non-empty text); unanswered items are missing.</summary>
    protected virtual bool IsAnswered(TItemReply item) => true;

    /// <summary>Edits the schema of an item's part, under <paramref name="itemPath"/> (<c>items[]</c>).</summary>
    protected virtual void EditItemSchema(JsonObject schema, params string[] itemPath)
    {
    }

    /// <summary>Validates one item's part of the reply as the one-item call validates its reply.</summary>
    protected abstract OutputValidation<TValue> ValidateItem(TItemReply item, TRequest request, OutputValidationContext context);
}
