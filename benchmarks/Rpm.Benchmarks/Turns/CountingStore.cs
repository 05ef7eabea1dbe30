using System.Collections.Concurrent;
using System.Reflection;

namespace Rpm.Benchmarks.Turns;

/// <summary>
/// Counts the calls made on an <see cref="IUserModelStore"/>, by method name, and passes them on. A dispatch proxy, so
/// it wraps whatever members the interface has at the commit being measured.
/// </summary>
public class CountingStore : DispatchProxy
{
    private IUserModelStore _inner = null!;

    public ConcurrentDictionary<string, int> Calls { get; } = new(StringComparer.Ordinal);

    /// <summary>String results (entity tags) returned, in UTF-8 bytes.</summary>
    public long StringBytes;

    public static (IUserModelStore Store, CountingStore Counter) Wrap(IUserModelStore inner)
    {
        IUserModelStore proxy = Create<IUserModelStore, CountingStore>();
        var counter = (CountingStore)(object)proxy;
        counter._inner = inner;
        return (proxy, counter);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        Calls.AddOrUpdate(targetMethod.Name, 1, (_, n) => n + 1);
        object? result = targetMethod.Invoke(_inner, args);
        if (result is Task<string?> tag)
        {
            return CountAsync(tag);
        }

        return result;
    }

    private async Task<string?> CountAsync(Task<string?> tag)
    {
        string? value = await tag.ConfigureAwait(false);
        Interlocked.Add(ref StringBytes, value is null ? 0 : System.Text.Encoding.UTF8.GetByteCount(value));
        return value;
    }
}
