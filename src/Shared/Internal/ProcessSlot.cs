namespace Rpm;

/// <summary>
/// An <see cref="AsyncLocal{T}"/> that every Rpm assembly of the process shares, without a public type: source linked
/// into several assemblies (src/Shared) compiles one copy per assembly, and a static field per copy would let each see
/// only the values its own assembly sets. The one instance per name is kept in <see cref="AppContext"/>'s data, and the
/// values are framework types (or Microsoft.Extensions.AI's), so that every copy can read what another set.
/// </summary>
/// <remarks>Used where one Rpm package sets a value that another reads in the same async flow (an answer cache of
/// Rpm.Evaluation below a validated read of Rpm.Core's stages).</remarks>
internal static class ProcessSlot
{
    // An interned string is one object per process, whichever assembly interns it: a lock every copy shares.
    private static readonly string Gate = string.Intern("Rpm.ProcessSlot.Gate");

    /// <summary>Returns the process's one slot of this name, created on first use.</summary>
    /// <typeparam name="T">The value type: a framework type, the same in every copy.</typeparam>
    /// <param name="name">The slot's name, e.g. <c>Rpm.ResponseAcceptance</c>.</param>
    /// <returns>The slot.</returns>
    public static AsyncLocal<T> Get<T>(string name)
    {
        string key = "Rpm.ProcessSlot." + name;
        lock (Gate)
        {
            if (AppContext.GetData(key) is AsyncLocal<T> slot)
            {
                return slot;
            }

            slot = new AsyncLocal<T>();
            AppContext.SetData(key, slot);
            return slot;
        }
    }
}
