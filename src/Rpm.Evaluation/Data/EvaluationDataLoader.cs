namespace Rpm.Evaluation;

/// <summary>
/// Finds and reads an evaluation set from a path: a folder with a LaMP-shaped questions/outputs pair (and optionally a
/// <c>task.json</c>), or an opinions file (<see cref="OpinionDataReader"/>).
/// </summary>
public static class EvaluationDataLoader
{
    /// <summary>The name of the optional task file in a data folder.</summary>
    public const string TaskFileName = "task.json";

    /// <summary>Reads the data at <paramref name="path"/>.</summary>
    /// <param name="path">A folder holding <c>*questions*.json</c> and <c>*outputs*.json</c>, or an opinions file.</param>
    /// <param name="spec">
    /// How to read a LaMP-shaped pair; when <see langword="null"/>, the folder's <c>task.json</c>, else the LaMP preset
    /// named by the outputs file's <c>task</c> (e.g. <c>LaMP_2</c>).
    /// </param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The data set.</returns>
    /// <exception cref="EvaluationDataException">The data cannot be found or read; the message says what to pass.</exception>
    public static async Task<EvaluationDataset> LoadAsync(string path, LampTaskSpec? spec = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (File.Exists(path))
        {
            if (OpinionDataReader.IsOpinionFile(path))
            {
                return await OpinionDataReader.ReadAsync(path, cancellationToken).ConfigureAwait(false);
            }

            throw new EvaluationDataException(path, null, $"a single file must be an opinions file (\"format\": \"{OpinionDataReader.Format}\"); for LaMP data pass the folder, or --questions and --golds.");
        }

        if (!Directory.Exists(path))
        {
            throw new EvaluationDataException(path, null, "no such file or folder.");
        }

        string questions = FindOne(path, "questions");
        string outputs = FindOne(path, "outputs");
        return await LoadPairAsync(questions, outputs, spec ?? await ResolveSpecAsync(path, outputs, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a questions/outputs pair.</summary>
    /// <param name="questionsPath">The questions file.</param>
    /// <param name="outputsPath">The outputs (golds) file.</param>
    /// <param name="spec">How to read the pair; when <see langword="null"/>, a <c>task.json</c> beside the questions, else the LaMP preset named in the outputs file.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The data set.</returns>
    public static async Task<EvaluationDataset> LoadPairAsync(string questionsPath, string outputsPath, LampTaskSpec? spec, CancellationToken cancellationToken = default)
    {
        spec ??= await ResolveSpecAsync(Path.GetDirectoryName(Path.GetFullPath(questionsPath))!, outputsPath, cancellationToken).ConfigureAwait(false);
        return await LampReader.ReadAsync(questionsPath, outputsPath, spec, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Finds the task of a LaMP-shaped folder: its <c>task.json</c>, else the preset named by the outputs file.</summary>
    /// <param name="folder">The data folder.</param>
    /// <param name="outputsPath">The outputs file.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The spec.</returns>
    /// <exception cref="EvaluationDataException">Neither is there; the message says which options describe the task.</exception>
    public static async Task<LampTaskSpec> ResolveSpecAsync(string folder, string outputsPath, CancellationToken cancellationToken = default)
    {
        string taskFile = Path.Combine(folder, TaskFileName);
        if (File.Exists(taskFile))
        {
            return await LampTaskSpec.LoadAsync(taskFile, cancellationToken).ConfigureAwait(false);
        }

        LampOutputs outputs = await LampOutputs.ReadAsync(outputsPath, cancellationToken).ConfigureAwait(false);
        if (LampTaskSpec.TryGetPreset(outputs.Task, out LampTaskSpec? preset))
        {
            return preset;
        }

        throw new EvaluationDataException(
            outputsPath, null,
            $"the task '{outputs.Task}' is not a LaMP task and the folder has no {TaskFileName}. Name a LaMP task (--task LaMP-3), or describe it: " +
            "--kind rating --scale 0.5:5:0.5 --input-field text --output-field score (or --kind classification --labels a,b,c).");
    }

    private static string FindOne(string folder, string kind)
    {
        string[] files = [.. Directory.GetFiles(folder, "*.json").Where(f => Path.GetFileName(f).Contains(kind, StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal)];
        return files.Length switch
        {
            1 => files[0],
            0 => throw new EvaluationDataException(folder, null, $"no *{kind}*.json file in the folder (LaMP names them e.g. dev_{kind}.json)."),
            _ => throw new EvaluationDataException(folder, null, $"more than one *{kind}*.json file ({string.Join(", ", files.Select(Path.GetFileName))}); pass --questions and --golds to choose."),
        };
    }
}
