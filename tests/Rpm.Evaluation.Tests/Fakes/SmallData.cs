namespace Rpm.Evaluation.Tests.Fakes;

/// <summary>Small hand-made data sets in the MovieLens text style, so the RPM fake extracts genre features.</summary>
internal static class SmallData
{
    public static EvaluationDataset Tags()
    {
        RpmTask task = LampTaskSpec.Lamp2.Task;
        return new EvaluationDataset("tags", task,
        [
            new EvaluationUser("u1", "u1",
            [
                new("h1", "Alien (1979). Genres: Horror, Sci-Fi.", "sci-fi"),
                new("h2", "Airplane! (1980). Genres: Comedy.", "comedy"),
                new("h3", "Blade Runner (1982). Genres: Action, Sci-Fi, Thriller.", "dystopia"),
                new("h4", "Brazil (1985). Genres: Fantasy, Sci-Fi.", "dystopia"),
                new("h5", "Heat (1995). Genres: Action, Crime, Thriller.", "action"),
            ],
            [
                new EvaluationQuery("q1", "Which tag does this movie relate to? description: Gattaca (1997). Genres: Drama, Sci-Fi, Thriller.", "dystopia"),
                new EvaluationQuery("q2", "Which tag does this movie relate to? description: Hot Shots! (1991). Genres: Action, Comedy.", "comedy"),
            ]),
            new EvaluationUser("u2", "u2",
            [
                new("k1", "Titanic (1997). Genres: Drama, Romance.", "romance"),
                new("k2", "Notting Hill (1999). Genres: Comedy, Romance.", "romance"),
                new("k3", "Schindler's List (1993). Genres: Drama, War.", "true story"),
                new("k4", "Amelie (2001). Genres: Comedy, Romance.", "romance"),
            ],
            [
                new EvaluationQuery("q3", "Which tag does this movie relate to? description: Casablanca (1942). Genres: Drama, Romance.", "classic"),
            ]),
        ]);
    }

    public static EvaluationDataset Ratings()
    {
        RpmTask task = RpmTask.Rating("ratings", "Predict the rating this user gave a movie.", new RatingScale(0.5, 5, 0.5));
        return new EvaluationDataset("ratings", task,
        [
            new EvaluationUser("u1", "u1",
            [
                new("h1", "Alien (1979). Genres: Horror, Sci-Fi.", "5.0"),
                new("h2", "Airplane! (1980). Genres: Comedy.", "2.0"),
                new("h3", "Aliens (1986). Genres: Action, Horror, Sci-Fi.", "4.5"),
                new("h4", "Clueless (1995). Genres: Comedy, Romance.", "1.5"),
            ],
            [new EvaluationQuery("q1", "What is the score of the following movie? movie: Predator (1987). Genres: Action, Sci-Fi, Thriller.", "4.5")]),
            new EvaluationUser("u2", "u2",
            [
                new("k1", "Titanic (1997). Genres: Drama, Romance.", "3.0"),
                new("k2", "Notting Hill (1999). Genres: Comedy, Romance.", "3.5"),
                new("k3", "Heat (1995). Genres: Action, Crime, Thriller.", "4.0"),
            ],
            [new EvaluationQuery("q2", "What is the score of the following movie? movie: Amelie (2001). Genres: Comedy, Romance.", "3.5")]),
        ]);
    }

    public static MethodContext Context(EvaluationDataset data, Microsoft.Extensions.AI.IChatClient? chat, Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>>? embeddings = null) => new()
    {
        Task = data.Task,
        ChatClient = chat,
        EmbeddingGenerator = embeddings ?? new HashingEmbeddingGenerator(),
        Tokenizer = EvaluationTokenizer.O200kBase,
    };
}
