using System.Security.Cryptography;
using System.Text;

namespace Rpm;

/// <summary>
/// The fingerprint of a build's or an update's work, so that equal requests for one user join one build: the in-process
/// single flight (Rpm.Core's UserBuildGate) and a queued job's work key (Rpm.Hosting's RpmBuildRequest) compute it alike.
/// </summary>
internal static class WorkFingerprint
{
    /// <summary>A fingerprint of a request's work: the kind, the task and every item's content, so equal requests join.</summary>
    public static string Of(string kind, RpmTask task, IReadOnlyList<HistoryItem> items)
    {
        var text = new StringBuilder(kind).Append('\u001f').Append(task.Name);
        foreach (HistoryItem item in items)
        {
            text.Append('\u001e').Append(item.Id).Append('\u001f').Append(item.Input).Append('\u001f').Append(item.Output)
                .Append('\u001f').Append(item.Timestamp?.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            foreach (string option in item.Options ?? [])
            {
                text.Append('\u001d').Append(option);
            }
        }

        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
