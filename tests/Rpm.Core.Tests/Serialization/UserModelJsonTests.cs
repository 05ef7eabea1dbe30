using System.Text;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Tests.Serialization;

[Collection(MiniLmCollection.Name)]
public sealed class UserModelJsonTests(MiniLmFixture miniLm)
{
    [Fact]
    public async Task A_user_model_round_trips_through_json_with_every_part()
    {
        UserModel model = await TestPipelines.Create(new FakeChatClient(), miniLm.Generator).BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(4));

        UserModel copy = RpmJson.DeserializeUserModel(RpmJson.SerializeUserModel(model));

        Assert.Equal(model.UserId, copy.UserId);
        Assert.Equal(model.Task.Kind, copy.Task.Kind);
        Assert.Equal(model.Task.Scale!.Step, copy.Task.Scale!.Step);
        Assert.Equal(model.Version, copy.Version);
        Assert.Equal(model.BuildUsage, copy.BuildUsage);
        Assert.Equal(model.CreatedAt, copy.CreatedAt);
        Assert.Equal(model.ChatModelId, copy.ChatModelId);
        Assert.Equal(model.EmbeddingModelId, copy.EmbeddingModelId);
        Assert.Equal(model.Statistics.Select(s => (s.Factor.Name, s.Factor.Description, s.Coverage, s.MeanRating)), copy.Statistics.Select(s => (s.Factor.Name, s.Factor.Description, s.Coverage, s.MeanRating)));
        Assert.Equal(model.Statistics[0].Propensity, copy.Statistics[0].Propensity);
        for (int i = 0; i < model.Paths.Count; i++)
        {
            Assert.Equal(model.Paths[i].Item.Id, copy.Paths[i].Item.Id);
            Assert.Equal(model.Paths[i].Reasoning, copy.Paths[i].Reasoning);
            Assert.Equal(model.Paths[i].Features.Select(f => f.ToString()), copy.Paths[i].Features.Select(f => f.ToString()));
            Assert.Equal(model.Paths[i].Embedding.ToArray(), copy.Paths[i].Embedding.ToArray());
        }

        Assert.True(copy.Task.TryNormalizeAnswer("4", null, out string normalized, out _));
        Assert.Equal("4.0", normalized);
    }

    [Fact]
    public async Task Build_diagnostics_are_stored_with_the_model_and_a_model_stored_before_them_reads_as_clean()
    {
        var chat = new FakeChatClient { Respond = r => r.Stage == RpmStage.FactorConstruction ? "no factors today" : null };
        UserModel model = await TestPipelines.Create(chat, miniLm.Generator).BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(4));
        Assert.True(model.Diagnostics.FactorsFromSuggestedCategories);

        byte[] json = RpmJson.SerializeUserModel(model);
        Assert.Equal(model.Diagnostics, RpmJson.DeserializeUserModel(json).Diagnostics);

        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        node.Remove("diagnostics");
        Assert.True(RpmJson.DeserializeUserModel(Encoding.UTF8.GetBytes(node.ToJsonString())).Diagnostics.IsClean);
    }

    [Fact]
    public void Corrupt_or_newer_json_is_reported_clearly()
    {
        Assert.Contains("corrupt", Assert.Throws<InvalidDataException>(() => RpmJson.DeserializeUserModel("{\"userId\": 3"u8)).Message);
        Assert.Contains("empty", Assert.Throws<InvalidDataException>(() => RpmJson.DeserializeUserModel("null"u8)).Message);
        string newer = """{"userId":"u","task":{"name":"t","kind":"Generation","description":"d"},"statistics":[],"paths":[],"formatVersion":99}""";
        Assert.Contains("newer than this library", Assert.Throws<InvalidDataException>(() => RpmJson.DeserializeUserModel(Encoding.UTF8.GetBytes(newer))).Message);
    }
}
