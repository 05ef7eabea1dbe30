namespace Rpm;

/// <summary>
/// Which retry profile of <see cref="OpenAIEndpointOptions"/> a call to the endpoint gets, chosen per call from what the
/// call belongs to, from the marks RPM puts on its own calls; see <see cref="EndpointResilience.CurrentProfile"/>.
/// </summary>
public enum EndpointRetryProfile
{
    /// <summary>
    /// A call inside a build or an update of a user model (marked by RPM): background work that may
    /// wait out an outage, retried by <see cref="OpenAIEndpointOptions.Build"/>.
    /// </summary>
    Build,

    /// <summary>
    /// Every other call (a chat turn, an agent run, <c>RpmPipeline.RespondAsync</c> in a web request): someone is waiting
    /// for it, retried by <see cref="OpenAIEndpointOptions.Interactive"/>.
    /// </summary>
    Interactive,

    /// <summary>
    /// A call that personalizes a live chat turn or agent run (marked by RPM, outside a
    /// build): one attempt, never retried, with <see cref="OpenAIEndpointOptions.Interactive"/>'s attempt timeout.
    /// Personalization is optional and the turn's own call follows, so an outage costs one retry cycle per turn, not two.
    /// </summary>
    Personalization,
}
