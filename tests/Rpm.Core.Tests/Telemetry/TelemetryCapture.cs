using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Rpm.Tests.Telemetry;

/// <summary>
/// What one test sees of the pipeline's telemetry: the spans of its own trace (a real OpenTelemetry tracer with the
/// in-memory exporter; the tracer is process-wide, so only spans under this capture's root are kept), the log records of
/// its own logger factory, and the measurements of its own meter factory.
/// </summary>
public sealed class TelemetryCapture : IDisposable
{
    private const string TestSourceName = "Rpm.Tests.Telemetry";
    private static readonly ActivitySource TestSource = new(TestSourceName);

    private readonly TracerProvider _tracer;
    private readonly ServiceProvider _metrics;
    private readonly TraceSpans _spans = new();
    private readonly List<IDisposable> _collectors = [];

    public TelemetryCapture()
    {
        _tracer = Sdk.CreateTracerProviderBuilder()
            .AddSource(RpmTelemetry.SourceName, TestSourceName)
            .AddInMemoryExporter(_spans)
            .Build()!;
        _metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();
        MeterFactory = _metrics.GetRequiredService<IMeterFactory>();
        Logs = new FakeLogCollector();
        LoggerFactory = new LoggerFactory([new FakeLoggerProvider(Logs)]);
    }

    public IMeterFactory MeterFactory { get; }

    public ILoggerFactory LoggerFactory { get; }

    public FakeLogCollector Logs { get; }

    /// <summary>Starts the root span every pipeline span of the test is to sit under; dispose it before reading <see cref="Spans"/>.</summary>
    public Activity StartRoot()
    {
        Activity root = TestSource.StartActivity("test") ?? throw new InvalidOperationException("The test source is not sampled.");
        _spans.TraceId = root.TraceId;
        return root;
    }

    /// <summary>Gets the finished spans of the root's trace, in the order they ended.</summary>
    public IReadOnlyList<Activity> Spans => _spans.Snapshot();

    public Activity Span(string name) => Assert.Single(Spans, s => s.DisplayName == name);

    public IReadOnlyList<Activity> ChildrenOf(Activity parent) => [.. Spans.Where(s => s.ParentSpanId == parent.SpanId)];

    public MetricCollector<T> Collect<T>(string instrument)
        where T : struct
    {
        var collector = new MetricCollector<T>(MeterFactory, RpmTelemetry.MeterName, instrument);
        _collectors.Add(collector);
        return collector;
    }

    public IReadOnlyList<FakeLogRecord> Events(int eventId) => [.. Logs.GetSnapshot().Where(r => r.Id.Id == eventId)];

    public RpmPipeline Pipeline(
        IChatClient chat, IEmbeddingGenerator<string, Embedding<float>> embeddings, Action<RpmOptions>? configure = null, IBuildCheckpointStore? checkpoints = null)
    {
        var options = new RpmOptions();
        configure?.Invoke(options);
        return new RpmPipeline(
            chat,
            new FeatureExtractor(chat, options, LoggerFactory, MeterFactory),
            new FactorConstructor(chat, options, LoggerFactory, MeterFactory),
            new StatisticsBuilder(),
            new ReasoningPathBuilder(chat, options, LoggerFactory, MeterFactory),
            new FeatureRetriever(embeddings, options),
            new InMemoryUserModelStore(),
            checkpoints ?? new InMemoryBuildCheckpointStore(),
            options,
            new InfluenceJudge(chat, options, LoggerFactory, MeterFactory),
            LoggerFactory,
            MeterFactory);
    }

    public void Dispose()
    {
        foreach (IDisposable collector in _collectors)
        {
            collector.Dispose();
        }

        _tracer.Dispose();
        _metrics.Dispose();
        LoggerFactory.Dispose();
    }

    /// <summary>The exporter's list: thread-safe, and keeping only the spans of one trace (other tests' spans reach every tracer).</summary>
    private sealed class TraceSpans : ICollection<Activity>
    {
        private readonly List<Activity> _items = [];

        public ActivityTraceId TraceId { get; set; }

        public int Count
        {
            get
            {
                lock (_items)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public void Add(Activity item)
        {
            if (item.TraceId == TraceId)
            {
                lock (_items)
                {
                    _items.Add(item);
                }
            }
        }

        public IReadOnlyList<Activity> Snapshot()
        {
            lock (_items)
            {
                return [.. _items];
            }
        }

        public void Clear()
        {
            lock (_items)
            {
                _items.Clear();
            }
        }

        public bool Contains(Activity item) => Snapshot().Contains(item);

        public void CopyTo(Activity[] array, int arrayIndex) => Snapshot().ToList().CopyTo(array, arrayIndex);

        public bool Remove(Activity item)
        {
            lock (_items)
            {
                return _items.Remove(item);
            }
        }

        public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
