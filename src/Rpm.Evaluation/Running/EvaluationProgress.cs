namespace Rpm.Evaluation;

/// <summary>Where a run is: users and method runs done, calls and tokens so far, elapsed time and an estimate of what remains.</summary>
/// <param name="UsersDone">Users whose every method has finished.</param>
/// <param name="UsersTotal">Users in the run.</param>
/// <param name="StepsDone">(user, method) runs finished.</param>
/// <param name="StepsTotal">(user, method) runs in all.</param>
/// <param name="Usage">Calls and tokens of every method so far (cache hits included).</param>
/// <param name="EndpointCalls">Calls actually sent to the endpoint by this run (what is paid now).</param>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Remaining">Estimated time left, when at least one step has finished.</param>
public sealed record EvaluationProgress(int UsersDone, int UsersTotal, int StepsDone, int StepsTotal, UsageTotals Usage, long EndpointCalls, TimeSpan Elapsed, TimeSpan? Remaining);
