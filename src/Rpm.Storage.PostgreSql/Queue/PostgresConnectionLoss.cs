using System.Net.Sockets;
using Npgsql;

namespace Rpm;

/// <summary>
/// Tells a lost server (a restart, a failover, a cut network: what a worker rides out by reconnecting) from an error
/// that reconnecting cannot fix (a wrong database or password, a newer schema, a transaction-mode pooler).
/// </summary>
internal static class PostgresConnectionLoss
{
    /// <summary>Whether <paramref name="error"/>, or an exception it wraps, is the loss of the server or of the connection to it.</summary>
    public static bool Is(Exception? error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresPoolerException:
                    return false;
                case PostgresException postgres:
                    // Class 08: connection exceptions; 57P01 admin_shutdown (a restart), 57P02 crash_shutdown,
                    // 57P03 cannot_connect_now (starting up, in recovery), 53300 too_many_connections (a crowd reconnecting).
                    return postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
                        || postgres.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
                            or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections;
                case NpgsqlException:
                    // Not a server error: reading or writing the socket failed, or it timed out.
                    return true;
                case SocketException or IOException or EndOfStreamException:
                    return true;
            }
        }

        return false;
    }

    /// <summary>The reason of a loss in one line, for a log message (no stack trace: a lost server is expected).</summary>
    public static string Reason(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException postgres:
                    return $"{postgres.SqlState}: {postgres.MessageText}";
                case SocketException socket:
                    return $"{socket.SocketErrorCode}: {socket.Message}";
                case TimeoutException:
                    return "the connection timed out";
                case EndOfStreamException or IOException when e.InnerException is null:
                    return $"the server closed the connection ({e.Message})";
            }
        }

        return error.Message;
    }
}

/// <summary>The queue was pointed at a pooler whose connections are not one server session each (PgBouncer in transaction or statement mode).</summary>
internal sealed class PostgresPoolerException(string message, Exception? innerException = null)
    : RpmStoreException(message, innerException ?? new InvalidOperationException(message));
