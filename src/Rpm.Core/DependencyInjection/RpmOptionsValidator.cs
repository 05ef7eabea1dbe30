using Microsoft.Extensions.Options;

namespace Rpm;

/// <summary>Validates every named <see cref="RpmOptions"/> with <see cref="RpmOptions.Validate"/> (at start-up with <c>ValidateOnStart</c>).</summary>
internal sealed class RpmOptionsValidator : IValidateOptions<RpmOptions>
{
    public ValidateOptionsResult Validate(string? name, RpmOptions options)
    {
        IReadOnlyList<string> errors = options.GetErrors();
        if (errors.Count == 0)
        {
            return ValidateOptionsResult.Success;
        }

        string which = string.IsNullOrEmpty(name) ? "RpmOptions" : $"RpmOptions '{name}'";
        return ValidateOptionsResult.Fail(errors.Select(e => $"{which}: {e}"));
    }
}
