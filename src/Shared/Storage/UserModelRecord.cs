using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Rpm;

/// <summary>
/// The stored form of a user model shared by the database stores (schema v1): the model as RpmJson without
/// embeddings, the embeddings as one binary blob, and a SHA-256 checksum over both.
/// </summary>
/// <remarks>
/// Embeddings blob: for each reasoning path in order, its dimension count as a little-endian int32, then that many
/// little-endian IEEE-754 float32 values. Floats are copied bit for bit (NaN payloads and -0 included), never printed.
/// </remarks>
internal sealed class UserModelRecord
{
    private UserModelRecord(string userId, string taskName, int pathCount, int formatVersion, string modelJson, byte[] embeddings, byte[] checksum)
    {
        UserId = userId;
        TaskName = taskName;
        PathCount = pathCount;
        FormatVersion = formatVersion;
        ModelJson = modelJson;
        Embeddings = embeddings;
        Checksum = checksum;
    }

    public string UserId { get; }

    public string TaskName { get; }

    public int PathCount { get; }

    public int FormatVersion { get; }

    /// <summary>Gets the model as RpmJson, with every path's embedding detached (empty).</summary>
    public string ModelJson { get; }

    public byte[] Embeddings { get; }

    public byte[] Checksum { get; }

    /// <summary>Encodes a model for saving as <paramref name="version"/>.</summary>
    public static UserModelRecord Encode(UserModel model, long version)
    {
        IReadOnlyList<ReasoningPath> paths = model.Paths;
        int size = 0;
        foreach (ReasoningPath path in paths)
        {
            size = checked(size + sizeof(int) + (path.Embedding.Length * sizeof(float)));
        }

        byte[] embeddings = new byte[size];
        Span<byte> destination = embeddings;
        var detached = new ReasoningPath[paths.Count];
        for (int i = 0; i < paths.Count; i++)
        {
            ReadOnlySpan<float> vector = paths[i].Embedding.Span;
            BinaryPrimitives.WriteInt32LittleEndian(destination, vector.Length);
            destination = destination[sizeof(int)..];
            WriteFloats(vector, destination);
            destination = destination[(vector.Length * sizeof(float))..];
            detached[i] = paths[i].Embedding.IsEmpty ? paths[i] : paths[i].WithEmbedding(default);
        }

        string json = Encoding.UTF8.GetString(RpmJson.SerializeUserModel(model.WithPaths(detached).WithVersion(version)));
        return new UserModelRecord(model.UserId, model.Task.Name, paths.Count, model.FormatVersion, json, embeddings, ComputeChecksum(json, embeddings));
    }

    /// <summary>Gets the entity tag of a stored row: its version and the checksum over the model with its version, so equal tags mean equal stored models.</summary>
    public static string ETag(long version, byte[] checksum) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{version}-{Convert.ToHexStringLower(checksum)}");

    /// <summary>Decodes a stored row; every inconsistency is reported as <see cref="InvalidDataException"/> naming the user and where the row is.</summary>
    public static UserModel Decode(string userId, long version, string modelJson, byte[] embeddings, byte[] checksum, string location)
    {
        if (!CryptographicOperations.FixedTimeEquals(ComputeChecksum(modelJson, embeddings), checksum))
        {
            throw Corrupt(userId, location, "its checksum does not match its content (the row was damaged or changed outside Rpm)");
        }

        UserModel model;
        try
        {
            model = RpmJson.DeserializeUserModel(Encoding.UTF8.GetBytes(modelJson));
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"The stored user model of '{userId}' in {location} cannot be read: {ex.Message}", ex);
        }

        if (!string.Equals(model.UserId, userId, StringComparison.Ordinal))
        {
            throw Corrupt(userId, location, $"it holds the model of '{model.UserId}'");
        }

        if (model.Version != version)
        {
            throw Corrupt(userId, location, $"its version column says {version} but its content was saved as version {model.Version}");
        }

        var paths = new ReasoningPath[model.Paths.Count];
        ReadOnlySpan<byte> source = embeddings;
        for (int i = 0; i < paths.Length; i++)
        {
            if (source.Length < sizeof(int))
            {
                throw Corrupt(userId, location, $"its embeddings end before path {i + 1} of {paths.Length}");
            }

            int length = BinaryPrimitives.ReadInt32LittleEndian(source);
            source = source[sizeof(int)..];
            if (length < 0 || length > source.Length / sizeof(float))
            {
                throw Corrupt(userId, location, $"the embedding of path {i + 1} claims {length} dimensions, more than the blob holds");
            }

            float[] vector = new float[length];
            ReadFloats(source[..(length * sizeof(float))], vector);
            source = source[(length * sizeof(float))..];
            paths[i] = length == 0 ? model.Paths[i] : model.Paths[i].WithEmbedding(vector);
        }

        if (!source.IsEmpty)
        {
            throw Corrupt(userId, location, $"its embeddings blob has {source.Length} bytes after the last of {paths.Length} paths");
        }

        return model.WithPaths(paths).WithVersion(version);
    }

    private static InvalidDataException Corrupt(string userId, string location, string what) =>
        new($"The stored user model of '{userId}' in {location} is corrupt: {what}. Other users' models are not affected; delete this user's model (DeleteAsync) and rebuild it, or restore it from a backup.");

    private static byte[] ComputeChecksum(string modelJson, byte[] embeddings)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(modelJson));
        hash.AppendData(embeddings);
        return hash.GetHashAndReset();
    }

    private static void WriteFloats(ReadOnlySpan<float> values, Span<byte> destination)
    {
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(values).CopyTo(destination);
            return;
        }

        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(destination[(i * sizeof(float))..], values[i]);
        }
    }

    private static void ReadFloats(ReadOnlySpan<byte> source, Span<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            source.CopyTo(MemoryMarshal.AsBytes(values));
            return;
        }

        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(i * sizeof(float))..]);
        }
    }
}
