using System.Text;

namespace Rpm;

/// <summary>Builds the retrieval key of RPM: the concatenated text of an item's features (not its raw input).</summary>
internal static class FeatureText
{
    /// <summary>Concatenates features as one line each, <c>name: context</c>.</summary>
    /// <param name="features">The features.</param>
    /// <returns>The feature text; empty when there are no features.</returns>
    public static string Compose(IEnumerable<Feature> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var builder = new StringBuilder();
        foreach (Feature feature in features)
        {
            if (builder.Length > 0)
            {
                builder.Append('\n');
            }

            builder.Append(feature.Name).Append(": ").Append(feature.Context);
        }

        return builder.ToString();
    }
}
