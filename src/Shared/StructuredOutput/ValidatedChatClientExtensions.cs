using System.Globalization;
using System.Net.Http;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// The one way Rpm asks a chat model for structured output, shared by every RPM stage and every evaluation baseline.
/// It builds on Microsoft.Extensions.AI's own (the schema of the answer type from
/// <see cref="ChatResponseFormat.ForJsonSchema{T}(JsonSerializerOptions?, string?, string?)"/> in
/// <see cref="ChatOptions.ResponseFormat"/>, or JSON mode with the schema in the prompt as
/// <c>GetResponseAsync&lt;T&gt;</c> does) and adds what real endpoints need.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>A per-call schema (<see cref="ValidatedOutputRequest{T, TResult}.RefineSchema"/>), enforced strictly where the endpoint can.</item>
/// <item>The JSON value that validates, wherever it sits in the answer: a code fence, after a reasoning block, after an
/// echoed schema, before trailing prose; and, when the answer text is empty, in the response's reasoning field.</item>
/// <item>Unambiguous coercions to the schema (see <see cref="SchemaCoercion"/>), then the caller's validation.</item>
/// <item>The response's metadata read, never ignored: a refusal throws <see cref="RpmRefusalException"/> and a content
/// filter stop an <see cref="RpmModelOutputException"/> at once (neither is a format error to retry); an answer stopped at the
/// token limit is reported as truncated and the repair asks for a shorter one; an empty answer says where its text went.</item>
/// <item>Repair turns (<see cref="ValidatedOutputOptions.MaxRepairs"/>) that tell the model what was wrong.</item>
/// <item>Answer caches below see only accepted answers (<see cref="ResponseAcceptance"/>).</item>
/// </list>
/// Transport failures are not retried here: resilience belongs to the transport (see Rpm.OpenAI).
/// </remarks>
internal static class ValidatedChatClientExtensions
{
    /// <summary>Asks for a <typeparamref name="T"/>, reads, coerces and validates it, and repairs an unusable answer.</summary>
    /// <typeparam name="T">The JSON shape the model returns.</typeparam>
    /// <typeparam name="TResult">What validation turns it into.</typeparam>
    /// <param name="chatClient">The chat model.</param>
    /// <param name="messages">The prompt.</param>
    /// <param name="request">The shape, schema refinements and validation.</param>
    /// <param name="options">How to ask; <see langword="null"/> for the defaults (JSON schema, strict, one repair).</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests. An answer that arrived is still accepted (and cached) when it is signalled.</param>
    /// <returns>The result, with the usage of every call.</returns>
    /// <exception cref="RpmRefusalException">The model refused.</exception>
    /// <exception cref="RpmModelOutputException">The answer was invalid, truncated or empty on every attempt, or filtered (<see cref="RpmModelOutputException.Failure"/> says which).</exception>
    /// <exception cref="RpmStageException">The call failed (the inner exception, e.g. an <see cref="RpmEndpointException"/>, says how).</exception>
    /// <exception cref="RpmCallDeferredException">The chat client deferred the call (its answer is not available yet); passed through as thrown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ValidatedOutputOptions.MaxRepairs"/> is outside 0 to 5.</exception>
    public static async Task<ValidatedChatResponse<TResult>> GetValidatedResponseAsync<T, TResult>(
        this IChatClient chatClient,
        IEnumerable<ChatMessage> messages,
        ValidatedOutputRequest<T, TResult> request,
        ValidatedOutputOptions? options = null,
        CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(request);
        return await chatClient.ReadValidatedAsync(messages, request, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Asks for the reply a stage's contract describes: the engine behind <see cref="GetValidatedResponseAsync"/>.</summary>
    internal static async Task<ValidatedChatResponse<TResult>> ReadValidatedAsync<T, TResult>(
        this IChatClient chatClient,
        IEnumerable<ChatMessage> messages,
        IOutputContract<T, TResult> request,
        ValidatedOutputOptions? options,
        CancellationToken cancellationToken)
        where T : class
    {
        options ??= new ValidatedOutputOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxRepairs, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.MaxRepairs, 5, nameof(options));

        var (format, schema) = OutputSchemas.For(request);
        var conversation = new List<ChatMessage>(messages);
        if (!options.UseJsonSchemaResponseFormat)
        {
            conversation.Add(new ChatMessage(ChatRole.User, $"Respond with a JSON value conforming to the following schema:\n```\n{format.Schema}\n```"));
        }

        int maxAttempts = 1 + options.MaxRepairs;
        ModelUsage usage = ModelUsage.None;
        ResponseAcceptance.Attempt? first = null;
        string raw = string.Empty;
        string error = string.Empty;
        ModelOutputFailure failure = ModelOutputFailure.InvalidOutput;
        for (int attempt = 1; attempt <= maxAttempts; attempt++)
        {
            ChatOptions chatOptions = options.ChatOptions?.Clone() ?? new ChatOptions();
            chatOptions.ResponseFormat = options.UseJsonSchemaResponseFormat ? format : ChatResponseFormat.Json;
            if (options.UseJsonSchemaResponseFormat && options.UseStrictJsonSchema)
            {
                (chatOptions.AdditionalProperties ??= [])["strict"] = true;
            }

            ChatResponse response;
            ResponseAcceptance.Attempt pending;
            try
            {
                (response, pending) = await SendAsync(chatClient, conversation, chatOptions, request.Stage, options.Observer, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex) when (ex is RpmStageException or RpmCallDeferredException)
            {
                // A deferred call has no answer yet: it is neither a failure nor something a repair turn could fix.
                throw;
            }
            catch (Exception ex)
            {
                throw new RpmStageException(request.Stage, request.ItemId, $"The chat model call for stage {request.Stage} of item '{request.ItemId}' failed: {Describe(ex)}", ex) { Usage = usage };
            }

            first ??= pending;
            usage += ModelUsage.FromCall(response.Usage);
            raw = response.Messages.Count > 0 ? response.Messages[^1].Text : response.Text;

            // The metadata first: a refusal or a filter stop is an answer, not a format error to repair.
            if (response.Messages.SelectMany(m => m.Contents).OfType<ErrorContent>().FirstOrDefault(e => string.Equals(e.ErrorCode, "Refusal", StringComparison.OrdinalIgnoreCase)) is { } refusal)
            {
                throw new RpmRefusalException(request.Stage, request.ItemId, refusal.Message, raw) { Usage = usage };
            }

            if (response.FinishReason == ChatFinishReason.ContentFilter)
            {
                throw new RpmModelOutputException(
                    request.Stage, request.ItemId, raw, "finish reason content_filter; change the input or the filter settings.", attempt, ModelOutputFailure.ContentFiltered) { Usage = usage };
            }

            var context = new OutputValidationContext(attempt, maxAttempts);
            ReadResult<TResult> read = AnswerReader.Read(response, raw, request, schema, context);
            if (response.FinishReason == ChatFinishReason.Length)
            {
                failure = ModelOutputFailure.Truncated;
                error = "the answer stopped at the output token limit (finish reason length)" + (read.Value is null ? "." : ", so it may be incomplete.");
            }
            else if (read.Value is { } valid)
            {
                await ResponseAcceptance.AcceptAsync(response, pending, first).ConfigureAwait(false);
                return new ValidatedChatResponse<TResult>(valid.Value!, usage, attempt - 1, read.FromReasoning, response, valid.Diagnostics);
            }
            else
            {
                failure = read.Failure;
                error = read.Error;
            }

            if (attempt < maxAttempts)
            {
                options.Observer?.RepairSending(request.Stage, request.ItemId, attempt, maxAttempts, failure, error);
                conversation.Add(new ChatMessage(ChatRole.Assistant, raw));
                conversation.Add(new ChatMessage(ChatRole.User, RepairMessage(failure, error)));
            }
        }

        throw new RpmModelOutputException(request.Stage, request.ItemId, raw, error, maxAttempts, failure) { Usage = usage };
    }

    /// <summary>
    /// Reads one property of the JSON in a model answer that failed validation, with the same reader the validated path
    /// uses (the latest object outside any reasoning block that has it): e.g. to score an invalid answer as LaMP scores it.
    /// </summary>
    /// <param name="answerText">The model's answer, verbatim (<see cref="RpmModelOutputException.RawText"/>).</param>
    /// <param name="propertyName">The property, e.g. <c>answer</c>.</param>
    /// <returns>The property's text (a number's as written), or <see langword="null"/> when no object in the answer has it.</returns>
    public static string? ReadProperty(string? answerText, string propertyName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(propertyName);
        if (string.IsNullOrWhiteSpace(answerText))
        {
            return null;
        }

        string answer = JsonCandidates.SplitReasoning(answerText).Answer;
        foreach (JsonObject candidate in Enumerable.Reverse(JsonCandidates.FindObjects(answer, out _)))
        {
            if (candidate.FirstOrDefault(p => string.Equals(p.Key, propertyName, StringComparison.OrdinalIgnoreCase)).Value is JsonValue value)
            {
                return value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();
            }
        }

        return null;
    }

    private static async Task<(ChatResponse Response, ResponseAcceptance.Attempt Attempt)> SendAsync(
        IChatClient chatClient, List<ChatMessage> conversation, ChatOptions chatOptions, RpmStage stage, IModelCallObserver? observer, CancellationToken cancellationToken)
    {
        if (observer is null)
        {
            return await ResponseAcceptance.SendAsync(chatClient, conversation, chatOptions, cancellationToken).ConfigureAwait(false);
        }

        long started = observer.CallStarting();
        try
        {
            var sent = await ResponseAcceptance.SendAsync(chatClient, conversation, chatOptions, cancellationToken).ConfigureAwait(false);
            observer.CallEnded(stage, chatOptions, sent.Response, null, started);
            return sent;
        }
        catch (Exception ex) when (ex is not RpmCallDeferredException)
        {
            observer.CallEnded(stage, chatOptions, null, ex, started);
            throw;
        }
    }

    /// <summary>Says what went wrong with a call in one line: the endpoint's own words when a transport adapter gave them.</summary>
    internal static string Describe(Exception ex) => ex switch
    {
        RpmEndpointException endpoint => endpoint.Message,
        HttpRequestException http => $"the endpoint could not be reached ({http.Message})",
        TimeoutException or TaskCanceledException => "the call timed out",
        _ => OneLine(ex.InnerException is null || ex.Message.Contains(ex.InnerException.Message, StringComparison.Ordinal) ? ex.Message : $"{ex.Message} ({ex.InnerException.Message})"),
    };

    private static string OneLine(string text) => string.Join(" ", text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string RepairMessage(ModelOutputFailure failure, string error) => failure switch
    {
        ModelOutputFailure.Truncated =>
            $"Your answer was cut off before it was complete ({error.TrimEnd('.')}). Reply again with a shorter answer: only the JSON object, with brief text values.",
        ModelOutputFailure.Empty =>
            $"Your reply had no answer text ({error.TrimEnd('.')}). Reply with only the JSON object as your answer.",
        _ => $"That answer was not valid: {error} Reply again with only the corrected JSON object.",
    };

}
