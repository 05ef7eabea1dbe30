using System.Security.Cryptography;
using System.Text;

namespace Rpm;

/// <summary>
/// One build or update per user at a time within a process (single flight): a request for the same user and the same
/// work joins the one in flight and pays nothing; different work for the user waits for the one in flight to finish,
/// then runs (and finds its checkpoints and the saved model as the first left them).
/// </summary>
/// <remarks>
/// Without the gate, two concurrent posts of one history paid every call twice and the loser failed with
/// <see cref="UserModelConcurrencyException"/>. The joined run is the first caller's: its cancellation token governs it.
/// </remarks>
internal sealed class UserBuildGate
{
    private readonly Dictionary<string, (string Work, Task Run, CancellationTokenSource Abort)> _inFlight = new(StringComparer.Ordinal);

    /// <summary>Gets how many callers joined a run already in flight instead of starting their own (for tests and telemetry).</summary>
    public int JoinCount => Volatile.Read(ref _joins);

    private int _joins;

    /// <summary>
    /// Runs <paramref name="run"/> as the user's one run, or joins an equal one in flight, or waits for a different one.
    /// The token given to <paramref name="run"/> is the caller's, cancelled also by <see cref="Abort"/>.
    /// </summary>
    public async Task<T> RunAsync<T>(string userId, string work, Func<CancellationToken, Task<T>> run, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task? other;
            TaskCompletionSource<T>? mine = null;
            CancellationTokenSource? abort = null;
            bool join = false;
            lock (_inFlight)
            {
                if (_inFlight.TryGetValue(userId, out (string Work, Task Run, CancellationTokenSource Abort) current))
                {
                    other = current.Run;
                    join = string.Equals(current.Work, work, StringComparison.Ordinal);
                }
                else
                {
                    other = null;
                    mine = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
                    abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    _inFlight[userId] = (work, mine.Task, abort);
                }
            }

            if (join)
            {
                Interlocked.Increment(ref _joins);
                // Equal work is the same kind of call, so the same result type.
                return await ((Task<T>)other!).WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            if (mine is null)
            {
                // Different work for the same user: wait for the run in flight, whatever its outcome, then try again.
                try
                {
                    await other!.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                }

                continue;
            }

            try
            {
                T result = await run(abort!.Token).ConfigureAwait(false);
                mine.SetResult(result);
                return result;
            }
            catch (OperationCanceledException ex)
            {
                mine.SetCanceled(ex.CancellationToken);
                throw;
            }
            catch (Exception ex)
            {
                mine.SetException(ex);
                throw;
            }
            finally
            {
                lock (_inFlight)
                {
                    _inFlight.Remove(userId);
                }

                abort!.Dispose();
            }
        }
    }

    /// <summary>
    /// Cancels the user's run in flight, if any (its calls stop being paid for; it saves nothing), and returns the run,
    /// to wait for; <see langword="null"/> when none runs. Used by erasure: a model about to be erased is not worth a call.
    /// </summary>
    public Task? Abort(string userId)
    {
        lock (_inFlight)
        {
            if (!_inFlight.TryGetValue(userId, out (string Work, Task Run, CancellationTokenSource Abort) current))
            {
                return null;
            }

            try
            {
                current.Abort.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }

            return current.Run;
        }
    }
}
