namespace Rpm.Tests.Pipeline;

/// <summary>One generic checkpoint type writes the shapes the per-stage checkpoint classes wrote, so a build checkpointed by an earlier version resumes without paying again.</summary>
public sealed class CheckpointFormatTests
{
    private static readonly ModelUsage Usage = new(1, 120, 30);

    [Fact]
    public void Features_read_from_a_checkpoint_in_the_earlier_shape_and_written_in_it()
    {
        const string Earlier = """{"features":[{"name":"Slow burn","context":"a quiet start","factor":"Pacing"}],"usage":{"calls":1,"inputTokens":120,"outputTokens":30,"unreportedCalls":0},"diagnostics":{}}""";

        StageCheckpoint<List<Feature>> read = CheckpointFormat<List<Feature>>.Features.Read(Earlier, "features/1");
        string written = CheckpointFormat<List<Feature>>.Features.Write(read);

        Assert.Equal("Slow burn", read.Value.Single().Name);
        Assert.Equal("Pacing", read.Value.Single().Factor);
        Assert.Equal(Usage, read.Usage);
        Assert.Null(read.Excluded);
        Assert.StartsWith("""{"features":[{"name":"Slow burn","context":"a quiet start","factor":"Pacing"}],"usage":""", written, StringComparison.Ordinal);
        Assert.Equal(read.Usage, CheckpointFormat<List<Feature>>.Features.Read(written, "features/1").Usage);
    }

    [Fact]
    public void An_excluded_reasoning_keeps_its_reason_and_cost()
    {
        var excluded = new StageCheckpoint<string> { Value = string.Empty, Excluded = "item '3' at ReasoningPath: the model refused: no", Usage = Usage };

        string json = CheckpointFormat<string>.Reasoning.Write(excluded);
        StageCheckpoint<string> read = CheckpointFormat<string>.Reasoning.Read(json, "reasoning/3");

        Assert.StartsWith("""{"reasoning":"","excluded":"item \u00273\u0027 at ReasoningPath: the model refused: no","usage":""", json, StringComparison.Ordinal);
        Assert.Equal(excluded.Excluded, read.Excluded);
        Assert.Equal(Usage, read.Usage);
    }

    [Fact]
    public void Factors_keep_their_properties_at_the_top_level_as_before()
    {
        const string Earlier = """{"factors":[{"name":"Pacing","description":"How fast."}],"items":{"1":[{"name":"Slow burn","context":"c","factor":"Pacing"}]},"usage":{"calls":1,"inputTokens":120,"outputTokens":30},"diagnostics":{"featuresAssignedByRule":2}}""";

        StageCheckpoint<FactorAssignment> read = CheckpointFormat<FactorAssignment>.Factors.Read(Earlier, "factors/x");

        Assert.Equal("Pacing", read.Value.Factors.Single().Name);
        Assert.Equal("Slow burn", read.Value.Items["1"].Single().Name);
        Assert.Equal(2, read.Diagnostics.FeaturesAssignedByRule);
        Assert.StartsWith("""{"factors":[{"name":"Pacing","description":"How fast."}],"items":{"1":""", CheckpointFormat<FactorAssignment>.Factors.Write(read), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[1]")]
    [InlineData("""{"usage":{}}""")]
    [InlineData("""{"features":"not a list"}""")]
    public void A_corrupt_checkpoint_is_an_error_naming_its_key(string json)
    {
        var ex = Assert.Throws<InvalidDataException>(() => CheckpointFormat<List<Feature>>.Features.Read(json, "features/9"));

        Assert.Contains("'features/9'", ex.Message, StringComparison.Ordinal);
    }
}
