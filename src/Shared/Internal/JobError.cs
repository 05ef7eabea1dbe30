namespace Rpm;

/// <summary>
/// The reason a build job records when it fails: the exception's type and message, without the endpoint's own text or address.
/// </summary>
/// <remarks>
/// A job's reason is read back by whoever polls the job (a web API's job endpoint, another host), not only by the
/// operator: an endpoint's error body can quote the request, and so the user's history or another user's prompt.
/// The status and the library's own account of the failure stay; the server's text is in the logs' exception only.
/// </remarks>
internal static partial class JobError
{
    [System.Text.RegularExpressions.GeneratedRegex(@"\bhttps?://[^\s'""]+", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex EndpointAddress();

    public const string Withheld = "(the endpoint's text is in the log)";

    public static string Describe(Exception error)
    {
        string message = error.Message;
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e is RpmEndpointException { ServerMessage.Length: > 0 } endpoint)
            {
                message = message.Replace(endpoint.ServerMessage, Withheld, StringComparison.Ordinal);
            }
        }

        // The endpoint's address is the operator's business too (an internal host and port): "the endpoint" is enough.
        message = EndpointAddress().Replace(message, "the endpoint");
        return $"{error.GetType().Name}: {message}";
    }
}
