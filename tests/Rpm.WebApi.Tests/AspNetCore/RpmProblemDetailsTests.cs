using Microsoft.AspNetCore.Mvc;

namespace Rpm.WebApi.Tests.AspNetCore;

public sealed class RpmProblemDetailsTests
{
    [Fact]
    public void A_concurrent_writer_is_409_naming_the_user_and_versions()
    {
        ProblemDetails problem = RpmProblemDetails.Create(new UserModelConcurrencyException("alice", 3, 4));

        Assert.Equal(409, problem.Status);
        Assert.Contains("expected version 3, found 4", problem.Detail, StringComparison.Ordinal);
        Assert.Equal("alice", problem.Extensions["userId"]);
    }

    [Fact]
    public void A_model_answer_that_could_not_be_used_is_502_naming_stage_and_item_but_never_the_models_text()
    {
        var output = new RpmModelOutputException(RpmStage.FeatureExtraction, "m7", "SECRET raw answer quoting the history", "SECRET error quoting the answer", 2);

        ProblemDetails problem = RpmProblemDetails.Create(output);

        Assert.Equal(502, problem.Status);
        Assert.Contains("item 'm7'", problem.Detail, StringComparison.Ordinal);
        Assert.Equal("FeatureExtraction", problem.Extensions["stage"]);
        Assert.Equal("m7", problem.Extensions["itemId"]);
        Assert.DoesNotContain("SECRET", problem.Detail + problem.Title + string.Join(",", problem.Extensions.Values), StringComparison.Ordinal);
    }

    [Fact]
    public void An_endpoint_failure_wrapped_by_a_stage_is_503_with_the_endpoints_wait_and_without_its_text()
    {
        var endpoint = new RpmEndpointException("http://x/v1 answered 503: SECRET server text", 503, "SECRET server text", TimeSpan.FromSeconds(12.2), null);
        var stage = new RpmStageException(RpmStage.QueryFeatureExtraction, "q1", "The stage failed: " + endpoint.Message, endpoint);

        ProblemDetails problem = RpmProblemDetails.Create(stage);

        Assert.Equal(503, problem.Status);
        Assert.Equal(13, problem.Extensions["retryAfter"]);   // whole seconds, rounded up
        Assert.Equal(503, problem.Extensions["endpointStatus"]);
        Assert.Equal("q1", problem.Extensions["itemId"]);
        Assert.DoesNotContain("SECRET", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void An_endpoint_failure_without_a_wait_gets_the_configured_default()
    {
        ProblemDetails problem = RpmProblemDetails.Create(new RpmEndpointException("down", null, string.Empty, null, null), new RpmProblemDetailsOptions { DefaultRetryAfter = TimeSpan.FromSeconds(9) });

        Assert.Equal(503, problem.Status);
        Assert.Equal(9, problem.Extensions["retryAfter"]);
    }

    [Fact]
    public void An_unreachable_store_is_503_without_its_path_and_a_newer_schema_is_500()
    {
        ProblemDetails store = RpmProblemDetails.Create(new RpmStoreException("Cannot use the SQLite database '/srv/secret/rpm.db': damaged."));
        ProblemDetails schema = RpmProblemDetails.Create(new RpmStoreSchemaException("the SQLite database '/srv/secret/rpm.db'", 9, 3, "Rpm.Storage.Sqlite"));

        Assert.Equal(503, store.Status);
        Assert.DoesNotContain("/srv/secret", store.Detail, StringComparison.Ordinal);
        Assert.Equal(500, schema.Status);
        Assert.Contains("version 9", schema.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("/srv/secret", schema.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void An_ArgumentException_from_RPM_is_400_with_its_message_but_one_from_the_app_is_a_generic_500()
    {
        ArgumentException fromRpm = Assert.Throws<ArgumentException>(() => new RpmBuildRequest("u", RpmTask.Rating("t", "Rate.", new RatingScale(1, 5, 1)), []));
        ArgumentException fromApp = Assert.Throws<ArgumentException>(() => ThrowFromTheApp("SECRET app detail"));

        ProblemDetails bad = RpmProblemDetails.Create(fromRpm);
        ProblemDetails bug = RpmProblemDetails.Create(fromApp);

        Assert.Equal(400, bad.Status);
        Assert.Equal("The history of 'u' is empty: a user model needs at least one history item.", bad.Detail);
        Assert.Equal("history", bad.Extensions["parameter"]);
        Assert.Equal(500, bug.Status);
        Assert.Null(bug.Detail);
    }

    [Fact]
    public void Any_other_exception_is_a_500_without_a_message()
    {
        ProblemDetails problem = RpmProblemDetails.Create(new InvalidOperationException("SECRET connection string"));

        Assert.Equal(500, problem.Status);
        Assert.Null(problem.Detail);
        Assert.Empty(problem.Extensions);
    }

    private static void ThrowFromTheApp(string message) => throw new ArgumentException(message, nameof(message));
}
