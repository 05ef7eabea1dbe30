namespace Rpm;

/// <summary>Options of the <see cref="ModelFreePredictor"/>.</summary>
internal sealed class ModelFreePredictorOptions
{
    /// <summary>Gets or sets K, the number of most similar history items that vote. Default 3, as RPM retrieves.</summary>
    public int RetrievalCount { get; set; } = 3;

    /// <summary>
    /// Gets or sets the weight of the factor statistics against the neighbors' labels when a user model is known,
    /// from 0 (neighbors only) to 1 (statistics only). Default 0.5.
    /// </summary>
    public double FactorWeight { get; set; } = 0.5;

    /// <summary>
    /// Gets or sets how strongly a predicted rating is pulled toward the user's mean rating: a pseudo-weight added to
    /// the user's mean, against the neighbors' summed similarity (K neighbors of similarity 1 weigh K). Default 1.
    /// </summary>
    public double RatingShrinkage { get; set; } = 1.0;

    /// <summary>Checks every option and throws one exception that names each invalid option.</summary>
    /// <exception cref="ArgumentException">One or more options are invalid.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (RetrievalCount is < 1 or > 100)
        {
            errors.Add($"{nameof(RetrievalCount)} must be between 1 and 100 (was {RetrievalCount}).");
        }

        if (!(FactorWeight is >= 0 and <= 1))
        {
            errors.Add($"{nameof(FactorWeight)} must be between 0 and 1 (was {FactorWeight}).");
        }

        if (!(RatingShrinkage >= 0) || double.IsInfinity(RatingShrinkage))
        {
            errors.Add($"{nameof(RatingShrinkage)} must be a finite number of at least 0 (was {RatingShrinkage}).");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid ModelFreePredictorOptions: " + string.Join(" ", errors));
        }
    }
}
