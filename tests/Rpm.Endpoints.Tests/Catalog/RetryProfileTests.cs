using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Rpm.Cli;
using Rpm.Endpoints.Tests.Server;
using Rpm.Tests.Pipeline;
using Xunit.Abstractions;

namespace Rpm.Endpoints.Tests.Catalog;

/// <summary>
/// Two retry profiles chosen per call by Microsoft.Extensions.Http.Resilience's pipeline selection: a build's calls are
/// patient, every other call is interactive, and a live turn's personalization makes one attempt, so that a chat turn
/// against a down endpoint fails within seconds with the endpoint's reason (it took four minutes with one profile).
/// </summary>
[Collection(EndpointCollection.Name)]
public sealed class RetryProfileTests(MiniLm miniLm, ITestOutputHelper output)
{
    private const string Question = "Aliens (1986). Genres: Action, Sci-Fi.";

    private static readonly TimeSpan TurnBudget = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_UseRpm_turn_against_a_refused_endpoint_fails_within_20_s_after_one_personalization_attempt_and_the_interactive_retries()
    {
        await using var server = new MisbehavingOpenAiServer();
        using App app = await App.StartWithModelAsync(server, miniLm);
        app.Log.RefuseAt = AttemptLog.ClosedPort();
        int before = app.Log.Attempts.Count;
        var clock = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<RpmEndpointException>(() => app.TurnAsync());

        clock.Stop();
        output.WriteLine($"The turn failed after {clock.Elapsed.TotalSeconds:0.00} s and {app.Log.Attempts.Count - before} attempts: {ex.Message}");
        Assert.True(clock.Elapsed < TurnBudget, $"The turn took {clock.Elapsed} to fail.");
        Assert.Null(ex.StatusCode);
        Assert.Contains("could not be reached after 2 retries (interactive profile)", ex.Message, StringComparison.Ordinal);
        EndpointRetryOptions interactive = app.Options.Interactive;
        Assert.Equal(
            [EndpointRetryProfile.Personalization, .. Enumerable.Repeat(EndpointRetryProfile.Interactive, 1 + interactive.MaxRetryAttempts)],
            app.Log.Attempts.Skip(before));
        Assert.Equal(Enumerable.Repeat((EndpointRetryProfile.Interactive, EndpointRetryReason.ConnectionFailure, interactive.MaxRetryAttempts), interactive.MaxRetryAttempts),
            app.Retries.Select(r => (r.Profile, r.Reason, r.MaxAttempts)));
        RpmPersonalization personalization = Assert.Single(app.Personalizations);
        Assert.Contains("in the one attempt a live turn's personalization gets", personalization.FallbackReason ?? personalization.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_UseRpm_turn_against_an_endpoint_answering_503_fails_within_20_s_after_one_personalization_attempt_and_the_interactive_retries()
    {
        await using var server = new MisbehavingOpenAiServer();
        using App app = await App.StartWithModelAsync(server, miniLm);
        int requests = server.ChatRequests;
        server.Behave = _ => Reply.Error(503, "upstream connect error or disconnect/reset before headers");
        int before = app.Log.Attempts.Count;
        var clock = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<RpmEndpointException>(() => app.TurnAsync());

        clock.Stop();
        output.WriteLine($"The turn failed after {clock.Elapsed.TotalSeconds:0.00} s and {app.Log.Attempts.Count - before} attempts: {ex.Message}");
        Assert.True(clock.Elapsed < TurnBudget, $"The turn took {clock.Elapsed} to fail.");
        Assert.Equal(503, ex.StatusCode);
        Assert.Contains("answered 503 Service Unavailable: upstream connect error", ex.Message, StringComparison.Ordinal);
        EndpointRetryOptions interactive = app.Options.Interactive;
        Assert.Equal(
            [EndpointRetryProfile.Personalization, .. Enumerable.Repeat(EndpointRetryProfile.Interactive, 1 + interactive.MaxRetryAttempts)],
            app.Log.Attempts.Skip(before));
        var served = server.Requests.Skip(requests).ToList();
        Assert.Equal(2 + interactive.MaxRetryAttempts, served.Count);
        Assert.Equal(RpmStage.QueryFeatureExtraction, served[0].Stage);
        Assert.All(served.Skip(1), r => Assert.Contains(Question, r.Request.AllText, StringComparison.Ordinal));
        Assert.All(app.Retries, r => Assert.Equal((EndpointRetryProfile.Interactive, 503), (r.Profile, r.StatusCode)));
        Assert.Equal(interactive.MaxRetryAttempts, app.Retries.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_build_retries_with_the_build_profile_and_an_unmarked_call_and_a_query_with_the_interactive_one(bool dependencyInjection)
    {
        await using var server = new MisbehavingOpenAiServer();
        server.Behave = _ => Reply.Error(503, "Service Unavailable");
        using App app = App.Start(server, miniLm, dependencyInjection, o =>
        {
            Harness.Fast(o.Build, retries: 4);
            Harness.Fast(o.Interactive, retries: 1);
        });

        var build = await Assert.ThrowsAsync<RpmStageException>(() => app.Rpm.BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(1)));
        int buildAttempts = app.Log.Attempts.Count;
        var plain = await Assert.ThrowsAsync<RpmEndpointException>(() => app.Chat.GetResponseAsync(Question));
        int plainAttempts = app.Log.Attempts.Count - buildAttempts;

        Assert.Contains("answered 503", build.Message, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Repeat(EndpointRetryProfile.Build, 1 + 4), app.Log.Attempts.Take(buildAttempts));
        Assert.Equal(1 + 1, plainAttempts);
        Assert.Equal(EndpointRetryProfile.Interactive, app.Log.Attempts[^1]);
        Assert.Equal(
            [.. Enumerable.Repeat((EndpointRetryProfile.Build, 4), 4), (EndpointRetryProfile.Interactive, 1)],
            app.Retries.Select(r => (r.Profile, r.MaxAttempts)));
        Assert.EndsWith("(retry 1 of 1, interactive profile)", app.Retries[^1].ToString(), StringComparison.Ordinal);
        Assert.Equal(503, plain.StatusCode);
        Assert.Equal(1 + 4 + 1 + 1, server.ChatRequests);
    }

    [Fact]
    public async Task A_query_outside_a_build_gets_the_interactive_profile_although_it_is_an_RPM_stage_call()
    {
        await using var server = new MisbehavingOpenAiServer();
        using App app = App.Start(server, miniLm, dependencyInjection: true, o =>
        {
            Harness.Fast(o.Build, retries: 4);
            Harness.Fast(o.Interactive, retries: 1);
        });
        UserModel model = await app.Rpm.BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(2));
        Assert.All(app.Log.Attempts, a => Assert.Equal(EndpointRetryProfile.Build, a));
        int built = app.Log.Attempts.Count;
        server.Behave = r => r.Stage == RpmStage.Generation ? Reply.Error(502, "Bad Gateway") : null;

        var ex = await Assert.ThrowsAsync<RpmStageException>(() => app.Rpm.RespondAsync(model, Question));

        Assert.Equal(RpmStage.Generation, ex.Stage);
        Assert.Equal(2, server.Requests.Count(r => r.Stage == RpmStage.Generation));
        Assert.All(app.Log.Attempts.Skip(built), a => Assert.Equal(EndpointRetryProfile.Interactive, a));
        EndpointRetry retry = Assert.Single(app.Retries, r => r.StatusCode == 502);
        Assert.Equal((EndpointRetryProfile.Interactive, 1), (retry.Profile, retry.MaxAttempts));
    }

    [Fact]
    public void Each_invalid_knob_is_named_with_its_profile()
    {
        var options = new OpenAIEndpointOptions();
        options.Build.MaxRetryAttempts = -1;
        options.Build.RetryAfterCap = TimeSpan.FromSeconds(-1);
        options.Interactive.RetryBaseDelay = TimeSpan.Zero;
        options.Interactive.MaxRetryDelay = TimeSpan.FromDays(2);
        options.Interactive.AttemptTimeout = TimeSpan.FromMilliseconds(1);

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("Build.MaxRetryAttempts must be between 0 and 100 (was -1).", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Build.RetryAfterCap must be between zero and one day", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Interactive.RetryBaseDelay must be positive", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Interactive.MaxRetryDelay must be at least Interactive.RetryBaseDelay", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Interactive.AttemptTimeout must be between 10 ms and one day", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Build.RetryBaseDelay", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Interactive.MaxRetryAttempts", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_profile_is_named_and_the_container_refuses_to_start_with_a_bad_knob()
    {
        var missing = new OpenAIEndpointOptions { Interactive = null! };
        Assert.Contains("Interactive must be set", Assert.Throws<ArgumentException>(missing.Validate).Message, StringComparison.Ordinal);

        var services = new ServiceCollection();
        services.AddRpmOpenAIChatClient(o => o.Interactive.MaxRetryAttempts = 101);
        using ServiceProvider provider = services.BuildServiceProvider();
        var ex = Assert.Throws<ArgumentException>(() => provider.GetRequiredService<IOptions<OpenAIEndpointOptions>>().Value);
        Assert.Contains("Interactive.MaxRetryAttempts must be between 0 and 100 (was 101).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_are_a_patient_build_and_a_quick_interactive_profile()
    {
        var options = new OpenAIEndpointOptions();

        Assert.Equal((8, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(60)), Knobs(options.Build));
        Assert.Equal((2, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5)), Knobs(options.Interactive));
        Assert.NotSame(options.Build, new OpenAIEndpointOptions().Build);

        // Without Retry-After, the interactive retries wait at most 1 s + 2 s: a down endpoint fails a turn in seconds.
        TimeSpan longest = TimeSpan.Zero;
        for (int retry = 0; retry < options.Interactive.MaxRetryAttempts; retry++)
        {
            longest += TimeSpan.FromTicks(Math.Min(options.Interactive.MaxRetryDelay.Ticks, options.Interactive.RetryBaseDelay.Ticks << retry));
        }

        Assert.True(longest + (2 * options.Interactive.RetryAfterCap) < TurnBudget);

        static (int, TimeSpan, TimeSpan, TimeSpan, TimeSpan) Knobs(EndpointRetryOptions p) => (p.MaxRetryAttempts, p.RetryBaseDelay, p.MaxRetryDelay, p.AttemptTimeout, p.RetryAfterCap);
    }

    [Fact]
    public async Task The_rpm_tool_gives_its_queries_the_build_profiles_patience()
    {
        await using var server = new MisbehavingOpenAiServer();
        int failures = 0;
        server.Behave = _ => Interlocked.Increment(ref failures) == 1 ? Reply.Error(503, "Service Unavailable") : null;
        var retries = new List<EndpointRetry>();
        var settings = new EndpointSettings(server.Endpoint, server.Model.ModelId, "test-key", null, "unused");

        using IChatClient client = new CliServices().CreateChatClient(settings, retries.Add);
        await client.GetResponseAsync("Say ok.");

        EndpointRetry retry = Assert.Single(retries);
        Assert.Equal((EndpointRetryProfile.Interactive, 8), (retry.Profile, retry.MaxAttempts));
        Assert.InRange(retry.Delay, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        Assert.Equal(2, server.ChatRequests);
    }

    /// <summary>
    /// An app as a host builds it: one Rpm.OpenAI chat client (through <c>AddRpmOpenAIChatClient</c> or, without DI,
    /// <c>RpmOpenAI.CreateChatClient</c>) for RPM's stages and for the chat, personalized by <c>UseRpm()</c>, with every
    /// HTTP attempt recorded below the resilience handler.
    /// </summary>
    private sealed class App : IDisposable
    {
        private readonly List<EndpointRetry> _retries = [];
        private readonly List<RpmPersonalization> _personalizations = [];
        private readonly IDisposable _owner;

        private App(MisbehavingOpenAiServer server, MiniLm miniLm, bool dependencyInjection, Action<OpenAIEndpointOptions>? configure)
        {
            void Configure(OpenAIEndpointOptions o)
            {
                o.Endpoint = server.Endpoint;
                o.Model = server.Model.ModelId;
                o.ApiKey = "test-key";
                o.OnRetry = r =>
                {
                    lock (_retries)
                    {
                        _retries.Add(r);
                    }
                };
                configure?.Invoke(o);
            }

            void Personalized(RpmChatClientOptions o) => o.OnPersonalized = p =>
            {
                lock (_personalizations)
                {
                    _personalizations.Add(p);
                }
            };

            var rpmOptions = new Action<RpmOptions>(o => o.ChatOptions = new ChatOptions { ModelId = server.Model.ModelId, Temperature = 0 });
            var services = new ServiceCollection();
            services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(miniLm.Generator);
            if (dependencyInjection)
            {
                services.AddRpmOpenAIChatClient(Configure).UseRpm(Personalized);
                services.AddHttpClient(RpmOpenAIServiceCollectionExtensions.HttpClientName).AddHttpMessageHandler(() => Log.CreateHandler());
                services.AddRpm(rpmOptions);
                ServiceProvider provider = services.BuildServiceProvider();
                _owner = provider;
                Options = provider.GetRequiredService<IOptions<OpenAIEndpointOptions>>().Value;
                Rpm = provider.GetRequiredService<RpmPipeline>();
                Chat = provider.GetRequiredService<IChatClient>();
            }
            else
            {
                var options = new OpenAIEndpointOptions();
                Configure(options);
                var http = new HttpClient(EndpointResilience.CreateHandler(options, Log.CreateHandler(new SocketsHttpHandler()))) { Timeout = Timeout.InfiniteTimeSpan };
                IChatClient endpoint = RpmOpenAI.CreateChatClient(options, http);
                services.AddChatClient(endpoint).UseRpm(Personalized);
                services.AddRpm(rpmOptions);
                ServiceProvider provider = services.BuildServiceProvider();
                _owner = new Owner(provider, endpoint, http);
                Options = options;
                Rpm = provider.GetRequiredService<RpmPipeline>();
                Chat = provider.GetRequiredService<IChatClient>();
            }
        }

        public AttemptLog Log { get; } = new();

        public OpenAIEndpointOptions Options { get; }

        public RpmPipeline Rpm { get; }

        /// <summary>Gets the app's chat client: <c>UseRpm()</c> over Rpm.OpenAI's.</summary>
        public IChatClient Chat { get; }

        public IReadOnlyList<EndpointRetry> Retries
        {
            get
            {
                lock (_retries)
                {
                    return [.. _retries];
                }
            }
        }

        public IReadOnlyList<RpmPersonalization> Personalizations
        {
            get
            {
                lock (_personalizations)
                {
                    return [.. _personalizations];
                }
            }
        }

        public static App Start(MisbehavingOpenAiServer server, MiniLm miniLm, bool dependencyInjection, Action<OpenAIEndpointOptions>? configure = null) =>
            new(server, miniLm, dependencyInjection, configure);

        /// <summary>Starts the app with the default retry profiles and builds user "u"'s model while the endpoint answers.</summary>
        public static async Task<App> StartWithModelAsync(MisbehavingOpenAiServer server, MiniLm miniLm)
        {
            App app = Start(server, miniLm, dependencyInjection: true);
            await app.Rpm.BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(2));
            Assert.All(app.Log.Attempts, a => Assert.Equal(EndpointRetryProfile.Build, a));
            Assert.Empty(app.Retries);
            return app;
        }

        /// <summary>A chat turn of user "u", as a chat app sends it.</summary>
        public Task<ChatResponse> TurnAsync() =>
            Chat.GetResponseAsync(
                [new ChatMessage(ChatRole.User, $"Would I like {Question}")],
                new ChatOptions { AdditionalProperties = new AdditionalPropertiesDictionary { [RpmChatClient.UserIdKey] = "u" } });

        public void Dispose() => _owner.Dispose();

        private sealed class Owner(params IDisposable[] owned) : IDisposable
        {
            public void Dispose()
            {
                foreach (IDisposable each in owned)
                {
                    each.Dispose();
                }
            }
        }
    }
}
