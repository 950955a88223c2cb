using System.Text.Json;
using System.Text.Json.Serialization;

namespace FuncGateway.Model;

/// <summary>
/// A property a capability adds to route or upstream entities, declared once in the capability's own folder: its
/// entity name (and camelCase registry-file name), its value type, how it is read from and written back to a table
/// entity, and how it appears in a registry file. The table reader, <c>fgw</c>'s registry file (read and write),
/// <c>fgw validate</c> and <c>fgw export</c> all loop over the registered properties (<see cref="RegistrySchema"/>),
/// so a capability's format lives in one place. What the value means at request time is the capability's own
/// <c>IRouteFeatureCompiler</c>'s business.
/// </summary>
public abstract class RegistryProperty
{
    private protected RegistryProperty(RegistryTable table, string name, Type valueType)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Table = table;
        Name = name;
        FileName = JsonNamingPolicy.CamelCase.ConvertName(name);
        ValueType = valueType;
    }

    /// <summary>Which entities carry the property.</summary>
    public RegistryTable Table { get; }

    /// <summary>The entity property name (PascalCase, case-sensitive), e.g. <c>Auth</c>.</summary>
    public string Name { get; }

    /// <summary>The member name in a registry file (camelCase), e.g. <c>auth</c>.</summary>
    public string FileName { get; }

    /// <summary>The type of the value kept on the definition.</summary>
    public Type ValueType { get; }

    /// <summary>The value of an absent property, boxed.</summary>
    public abstract object? DefaultValue { get; }

    /// <summary>The converter a registry file reads and writes the value with; null: the file's own conventions.</summary>
    public abstract JsonConverter? FileConverter { get; }

    /// <summary>
    /// Reads the property from an entity. Returns true with the value to keep on the definition, false when there is
    /// nothing to keep (absent, at its default, or invalid: then with errors).
    /// </summary>
    public abstract bool TryRead(RegistryEntityReader reader, out object? value);

    /// <summary>The entity value of <paramref name="value"/>; null leaves the property out of the entity.</summary>
    public abstract object? ToEntity(object value);

    /// <summary>True when the value is the default, so a registry file leaves it out.</summary>
    public abstract bool IsDefault(object? value);

    /// <summary>Writes the value as the property's registry-file JSON.</summary>
    public abstract void WriteFile(Utf8JsonWriter writer, object value, JsonSerializerOptions options);

    /// <summary>
    /// A route property that makes the route answer by itself (a fixed response, a composition): a route that sets
    /// one needs no <c>Upstream</c>.
    /// </summary>
    public bool AnswersRoute { get; private protected set; }

    /// <inheritdoc/>
    public override string ToString() => $"{Table}.{Name}";
}

/// <summary>A registry property whose value on the definition is a <typeparamref name="T"/>.</summary>
/// <typeparam name="T">The value type; the default (see <see cref="Default"/>) is what an absent property means.</typeparam>
public sealed class RegistryProperty<T> : RegistryProperty
{
    /// <summary>Reads the property from an entity; see <see cref="RegistryProperty.TryRead"/>.</summary>
    public delegate bool EntityReader(RegistryEntityReader reader, string name, out T value);

    private readonly EntityReader _read;
    private readonly Func<T, object?> _toEntity;
    private readonly Func<T, bool> _isDefault;
    private readonly JsonConverter<T>? _fileConverter;
    private readonly JsonSerializerOptions? _fileOptions;

    /// <param name="table">Which entities carry the property.</param>
    /// <param name="name">The entity property name.</param>
    /// <param name="defaultValue">What an absent property means.</param>
    /// <param name="read">Reads and validates the property from an entity.</param>
    /// <param name="toEntity">The entity value; null leaves the property out.</param>
    /// <param name="isDefault">True when a value is the default (left out of files and entities).</param>
    /// <param name="fileConverter">How a registry file spells the value; null: the file's JSON conventions.</param>
    /// <param name="fileOptions">Options to write the value into a registry file with; null: the file's own.</param>
    public RegistryProperty(
        RegistryTable table,
        string name,
        T defaultValue,
        EntityReader read,
        Func<T, object?> toEntity,
        Func<T, bool> isDefault,
        JsonConverter<T>? fileConverter = null,
        JsonSerializerOptions? fileOptions = null)
        : base(table, name, typeof(T))
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(toEntity);
        ArgumentNullException.ThrowIfNull(isDefault);
        Default = defaultValue;
        _read = read;
        _toEntity = toEntity;
        _isDefault = isDefault;
        _fileConverter = fileConverter;
        _fileOptions = fileOptions;
    }

    /// <summary>The value of an absent property.</summary>
    public T Default { get; }

    /// <summary>Marks the property as one that makes a route answer by itself (see <see cref="RegistryProperty.AnswersRoute"/>); for declarations.</summary>
    internal RegistryProperty<T> AnsweringRoute()
    {
        AnswersRoute = true;
        return this;
    }

    /// <inheritdoc/>
    public override object? DefaultValue => Default;

    /// <inheritdoc/>
    public override JsonConverter? FileConverter => _fileConverter;

    /// <inheritdoc/>
    public override bool TryRead(RegistryEntityReader reader, out object? value)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var errors = reader.Errors.Count;
        if (_read(reader, Name, out var typed) && reader.Errors.Count == errors && !_isDefault(typed))
        {
            value = typed;
            return true;
        }

        value = null;
        return false;
    }

    /// <inheritdoc/>
    public override object? ToEntity(object value) => _toEntity((T)value);

    /// <inheritdoc/>
    public override bool IsDefault(object? value) => value is null || _isDefault((T)value);

    /// <inheritdoc/>
    public override void WriteFile(Utf8JsonWriter writer, object value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (_fileConverter is not null)
        {
            _fileConverter.Write(writer, (T)value, options);
            return;
        }

        JsonSerializer.Serialize(writer, (T)value, _fileOptions ?? options);
    }
}

/// <summary>The common shapes of registry properties, so a capability declares one in a line.</summary>
public static class RegistryProperties
{
    /// <summary>
    /// A Boolean (or the string <c>true</c>/<c>false</c>) that is false when absent; written only when true.
    /// </summary>
    public static RegistryProperty<bool> Flag(RegistryTable table, string name) => new(
        table, name, false,
        static (RegistryEntityReader reader, string n, out bool value) =>
        {
            value = reader.Boolean(n) ?? false;
            return value;
        },
        static value => value ? true : null,
        static value => !value);

    /// <summary>
    /// A trimmed string, absent when blank. <paramref name="check"/> validates (adding errors) and may normalise it;
    /// it returns null for an invalid value.
    /// </summary>
    public static RegistryProperty<string?> Text(RegistryTable table, string name, Func<string, List<string>, string?>? check = null) => new(
        table, name, null,
        (RegistryEntityReader reader, string n, out string? value) =>
        {
            value = reader.OptionalString(n);
            if (value is not null && check is not null)
            {
                value = check(value, reader.Errors);
            }

            return value is not null;
        },
        static value => string.IsNullOrEmpty(value) ? null : value,
        static value => value is null);

    /// <summary>
    /// A whole number between <paramref name="min"/> and <paramref name="max"/>: an <c>Int32</c> (or a numeric string) in
    /// the entity, a JSON number in a registry file; absent (null) by default. A value out of range rejects the row.
    /// </summary>
    public static RegistryProperty<int?> WholeNumber(RegistryTable table, string name, int min, int max) => new(
        table, name, null,
        (RegistryEntityReader reader, string n, out int? value) =>
        {
            value = reader.WholeNumber(n);
            if (value is { } number && (number < min || number > max))
            {
                reader.Errors.Add(FormattableString.Invariant($"{n} {number} is outside {min}–{max}."));
                value = null;
            }

            return value is not null;
        },
        static value => value,
        static value => value is null);

    /// <summary>
    /// A list of names: a comma-separated string or a JSON array of strings in the entity, stored comma-separated,
    /// an array in a registry file. <paramref name="check"/> (when given) runs on every read, present or not, and
    /// returns the list to keep.
    /// </summary>
    public static RegistryProperty<IReadOnlyList<string>> Names(
        RegistryTable table,
        string name,
        Func<IReadOnlyList<string>, List<string>, IReadOnlyList<string>>? check = null,
        JsonConverter<IReadOnlyList<string>>? fileConverter = null) => new(
        table, name, [],
        (RegistryEntityReader reader, string n, out IReadOnlyList<string> value) =>
        {
            value = reader.List(n);
            if (check is not null)
            {
                value = check(value, reader.Errors);
            }

            return value.Count > 0;
        },
        static value => value.Count == 0 ? null : string.Join(',', value),
        static value => value.Count == 0,
        fileConverter ?? NamesFileConverter.Instance);

    /// <summary>
    /// A JSON object kept in a string property of the entity (native JSON in a registry file). <paramref name="parse"/>
    /// reads and validates it in full (adding errors) and returns null for an invalid value; <paramref name="toJson"/>
    /// writes it back.
    /// </summary>
    public static RegistryProperty<T?> Json<T>(
        RegistryTable table,
        string name,
        Func<string, List<string>, T?> parse,
        Func<T, string> toJson,
        JsonSerializerOptions? fileOptions = null)
        where T : class => new(
        table, name, null,
        (RegistryEntityReader reader, string n, out T? value) =>
        {
            var text = reader.OptionalString(n);
            value = text is null ? null : parse(text, reader.Errors);
            return value is not null;
        },
        value => value is null ? null : toJson(value),
        static value => value is null,
        fileOptions: fileOptions);
}

/// <summary>
/// A list of names in a registry file: an array of strings, or a comma-separated string as the entity holds it
/// (<c>"web,mobile"</c>, <c>"10.0.0.0/8, 192.0.2.0/24"</c>); written as an array.
/// </summary>
internal sealed class NamesFileConverter : JsonConverter<IReadOnlyList<string>>
{
    public static NamesFileConverter Instance { get; } = new();

    public override IReadOnlyList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString()!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("Expected an array of strings or a comma-separated string here.");
        }

        var items = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                throw new JsonException("Expected an array of strings or a comma-separated string here.");
            }

            items.Add(reader.GetString()!);
        }

        return items;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartArray();
        foreach (var item in value)
        {
            writer.WriteStringValue(item);
        }

        writer.WriteEndArray();
    }
}
