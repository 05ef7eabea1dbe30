using System.Globalization;
using Rpm.Evaluation;

namespace Rpm.Cli;

/// <summary>Shows a run's progress: one line redrawn in place on a terminal, or a line per finished user otherwise.</summary>
internal sealed class ProgressPrinter : IProgress<EvaluationProgress>
{
    private readonly TextWriter _writer;
    private readonly bool _inPlace;
    private readonly Lock _gate = new();
    private int _lastUsers = -1;
    private DateTime _lastDraw;

    public ProgressPrinter(TextWriter writer, bool inPlace)
    {
        _writer = writer;
        _inPlace = inPlace;
    }

    public void Report(EvaluationProgress value)
    {
        lock (_gate)
        {
            string line = Format(value);
            if (_inPlace)
            {
                DateTime now = DateTime.UtcNow;
                if (now - _lastDraw < TimeSpan.FromMilliseconds(200) && value.StepsDone < value.StepsTotal)
                {
                    return;
                }

                _lastDraw = now;
                _writer.Write("\r" + line.PadRight(Math.Min(160, line.Length + 10)));
                if (value.StepsDone == value.StepsTotal)
                {
                    _writer.WriteLine();
                }
            }
            else if (value.UsersDone != _lastUsers)
            {
                _lastUsers = value.UsersDone;
                _writer.WriteLine(line);
            }
        }
    }

    public static string Format(EvaluationProgress p) => string.Create(
        CultureInfo.InvariantCulture,
        $"users {p.UsersDone}/{p.UsersTotal} · steps {p.StepsDone}/{p.StepsTotal} · calls {p.Usage.Calls} ({p.EndpointCalls} sent, {p.Usage.CachedCalls} cached) · tokens {p.Usage.InputTokens:N0} in / {p.Usage.OutputTokens:N0} out · elapsed {Clock(p.Elapsed)} · ETA {(p.Remaining is TimeSpan r ? Clock(r) : "--:--")}");

    private static string Clock(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"mm\:ss", CultureInfo.InvariantCulture);
}
