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
    private DateTime _lastNote;
    private string _last = string.Empty;
    private string? _note;

    public ProgressPrinter(TextWriter writer, bool inPlace)
    {
        _writer = writer;
        _inPlace = inPlace;
    }

    /// <summary>Shows a retry of the endpoint ("rate limited, retrying in 12 s") on the progress line until the next update.</summary>
    public void Retry(EndpointRetry retry)
    {
        lock (_gate)
        {
            _note = retry.ToString();
            DateTime now = DateTime.UtcNow;
            if (_inPlace && _last.Length > 0)
            {
                _writer.Write("\r" + (_last + " · " + _note).PadRight(Math.Min(200, _last.Length + _note.Length + 13)));
            }
            else if (_inPlace)
            {
                // No progress line to extend (rpm build, rpm ask): a line of its own.
                _writer.WriteLine(_note);
                _note = null;
            }
            else if (now - _lastNote >= TimeSpan.FromSeconds(1))
            {
                _writer.WriteLine(_note);
                _lastNote = now;
            }
        }
    }

    public void Report(EvaluationProgress value)
    {
        lock (_gate)
        {
            string line = Format(value);
            _last = line;
            if (_note is not null && _inPlace)
            {
                line += " · " + _note;
                _note = null;
            }

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
        $"users {p.UsersDone}/{p.UsersTotal} · steps {p.StepsDone:N0}/{p.StepsTotal:N0} · calls {p.Usage.Calls:N0} ({p.EndpointCalls:N0} sent, {p.Usage.EarlierRunCalls:N0} from earlier runs, {p.Usage.ReusedCalls:N0} reused) · tokens {p.Usage.InputTokens:N0} in / {p.Usage.OutputTokens:N0} out · elapsed {Clock(p.Elapsed)} · ETA {(p.Remaining is TimeSpan r ? Clock(r) : "--:--")}");

    private static string Clock(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"mm\:ss", CultureInfo.InvariantCulture);
}
