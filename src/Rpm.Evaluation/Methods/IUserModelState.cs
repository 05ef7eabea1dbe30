namespace Rpm.Evaluation;

/// <summary>
/// What a method returns from <see cref="IEvaluationMethod.PrepareUserAsync"/> when it holds a built
/// <see cref="UserModel"/> beside other state (the raw-query ablation's index), so that the runner can total the
/// model's <see cref="UserModel.Diagnostics"/> as it does for a method that returns the model itself.
/// </summary>
internal interface IUserModelState
{
    /// <summary>Gets the user's model.</summary>
    UserModel Model { get; }
}
