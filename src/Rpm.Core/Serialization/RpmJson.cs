using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Rpm;

/// <summary>The JSON form of Rpm.Core's stored types, for stores and tools that persist user models.</summary>
public static class RpmJson
{
    /// <summary>Gets the serializer options (source-generated metadata, camelCase, enums as strings) used for stored types.</summary>
    internal static JsonSerializerOptions Options => RpmJsonContext.Default.Options;

    /// <summary>Gets the type metadata of <see cref="UserModel"/>.</summary>
    public static JsonTypeInfo<UserModel> UserModel => RpmJsonContext.Default.UserModel;

    /// <summary>Gets the type metadata of <see cref="Rpm.RpmTask"/>, for stores that keep a task apart from a model (e.g. a build queue).</summary>
    public static JsonTypeInfo<Rpm.RpmTask> RpmTask => RpmJsonContext.Default.RpmTask;

    /// <summary>Writes a user model as UTF-8 JSON.</summary>
    /// <param name="model">The model.</param>
    /// <returns>The JSON bytes.</returns>
    public static byte[] SerializeUserModel(Rpm.UserModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return JsonSerializer.SerializeToUtf8Bytes(model, RpmJsonContext.Default.UserModel);
    }

    /// <summary>Reads a user model from UTF-8 JSON written by <see cref="SerializeUserModel"/>.</summary>
    /// <param name="utf8Json">The JSON bytes.</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">The bytes are not a user model of a format this version reads.</exception>
    public static Rpm.UserModel DeserializeUserModel(ReadOnlySpan<byte> utf8Json)
    {
        Rpm.UserModel? model;
        try
        {
            model = JsonSerializer.Deserialize(utf8Json, RpmJsonContext.Default.UserModel);
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or NotSupportedException)
        {
            throw new InvalidDataException($"The stored user model is corrupt or not a user model: {ex.Message}", ex);
        }

        if (model is null)
        {
            throw new InvalidDataException("The stored user model is empty (JSON null).");
        }

        if (model.FormatVersion > Rpm.UserModel.CurrentFormatVersion)
        {
            throw new InvalidDataException($"The stored user model of '{model.UserId}' has format version {model.FormatVersion}, newer than this library reads ({Rpm.UserModel.CurrentFormatVersion}). Upgrade Rpm.Core.");
        }

        return model;
    }
}
