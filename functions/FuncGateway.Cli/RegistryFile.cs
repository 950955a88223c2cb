using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using FuncGateway.Configuration;
using FuncGateway.LoadBalancing;
using FuncGateway.Model;

namespace FuncGateway.Cli;

/// <summary>
/// A registry file: <c>{"upstreams": [...], "routes": [...]}</c> whose items are <see cref="UpstreamDefinition"/>
/// and <see cref="RouteDefinition"/> in camelCase JSON. Reading is strict (unknown properties, wrong types, nulls and
/// missing required members are errors with their position); writing is canonical (sorted, defaults left out), so an
/// exported file imports as a no-op.
/// </summary>
internal sealed partial class RegistryFile
{
    private static readonly JsonSerializerOptions ReadOptions = CreateReadOptions();

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        NewLine = "\n",

        // A file for people, not HTML: keep '+', '<', '&' and non-ASCII characters readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public RegistryFile(IReadOnlyList<UpstreamDefinition>? upstreams, IReadOnlyList<RouteDefinition>? routes)
    {
        Upstreams = upstreams;
        Routes = routes;
    }

    /// <summary>The upstreams section; null when the file has none.</summary>
    public IReadOnlyList<UpstreamDefinition>? Upstreams { get; }

    /// <summary>The routes section; null when the file has none.</summary>
    public IReadOnlyList<RouteDefinition>? Routes { get; }

    /// <summary>The sections the file contains.</summary>
    public RegistrySections Sections =>
        (Upstreams is null ? RegistrySections.None : RegistrySections.Upstreams) | (Routes is null ? RegistrySections.None : RegistrySections.Routes);

    /// <summary>Reads and parses a file; every problem is a <see cref="CliException"/> with exit code 1.</summary>
    public static RegistryFile Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new CliException(ExitCodes.InvalidInput, $"Cannot read '{path}': {ex.Message}");
        }

        return Parse(text, path);
    }

    /// <summary>Parses the file format; <paramref name="source"/> names the file in messages.</summary>
    public static RegistryFile Parse(string json, string source)
    {
        FileModel? model;
        try
        {
            model = JsonSerializer.Deserialize<FileModel>(json, ReadOptions);
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.InvalidInput, $"{source}: {Describe(ex)}");
        }

        if (model is null)
        {
            throw new CliException(ExitCodes.InvalidInput, $"{source}: expected an object {{\"upstreams\": [...], \"routes\": [...]}}, not null.");
        }

        // The serializer checks nullability of properties, not of list items: a null item would silently vanish
        // (a null method would widen a route to every method), so it is an error here.
        var errors = new List<string>();
        CheckItems(model.UpstreamsOrNull, "upstreams", errors, static (u, at, e) =>
        {
            // Instances are checked by InstanceConverter, which sees nulls.
        });
        CheckItems(model.RoutesOrNull, "routes", errors, static (r, at, e) =>
        {
            CheckNoNull(r.Methods, at + ".methods", e);
            CheckNoEmptyItem(r.Methods, at + ".methods", RegistrySerializer.EmptyMethodError, e);
            CheckNoNull(r.Hosts, at + ".hosts", e);
            CheckNoEmptyItem(r.Hosts, at + ".hosts", RegistrySerializer.EmptyHostError, e);
            CheckNoNull(r.Headers, at + ".headers", e);
            CheckNoNull(r.Query, at + ".query", e);
        });
        if (errors.Count > 0)
        {
            throw new CliException(ExitCodes.InvalidInput, string.Join(Environment.NewLine, errors.Select(e => $"{source}: {e}")));
        }

        return new RegistryFile(model.UpstreamsOrNull, model.RoutesOrNull);
    }

    private static void CheckItems<T>(List<T>? items, string section, List<string> errors, Action<T, string, List<string>> check)
        where T : class
    {
        for (var i = 0; i < (items?.Count ?? 0); i++)
        {
            var at = string.Create(CultureInfo.InvariantCulture, $"{section}[{i}]");
            if (items![i] is null)
            {
                errors.Add($"{at}: an item may not be null.");
                continue;
            }

            check(items[i], at, errors);
        }
    }

    private static void CheckNoNull<T>(IReadOnlyList<T> items, string at, List<string> errors)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is null)
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{at}[{i}]: an item may not be null."));
            }
        }
    }

    /// <summary>
    /// An empty method or host name would be stored as no list at all, a route of every method or any host: an error,
    /// as in import-proxies and in the gateway's row compiler.
    /// </summary>
    private static void CheckNoEmptyItem(IReadOnlyList<string> items, string at, string error, List<string> errors)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is { } item && string.IsNullOrWhiteSpace(item))
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{at}[{i}]: {error}"));
            }
        }
    }

    /// <summary>
    /// The file as indented JSON: items sorted by id/name (then group), optional values at their defaults left out,
    /// an instance with weight 1 written as its URL. A null section is left out.
    /// </summary>
    public static string Serialize(IEnumerable<UpstreamDefinition>? upstreams, IEnumerable<RouteDefinition>? routes)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            if (upstreams is not null)
            {
                writer.WriteStartArray("upstreams");
                foreach (var upstream in upstreams.OrderBy(u => u.Name, StringComparer.Ordinal).ThenBy(u => u.Group, StringComparer.Ordinal))
                {
                    WriteUpstream(writer, upstream);
                }

                writer.WriteEndArray();
            }

            if (routes is not null)
            {
                writer.WriteStartArray("routes");
                foreach (var route in routes.OrderBy(r => r.Id, StringComparer.Ordinal).ThenBy(r => r.Group, StringComparer.Ordinal))
                {
                    WriteRoute(writer, route);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteUpstream(Utf8JsonWriter writer, UpstreamDefinition upstream)
    {
        writer.WriteStartObject();
        writer.WriteString("name", upstream.Name);
        WriteGroup(writer, upstream.Group);
        writer.WriteStartArray("instances");
        foreach (var instance in upstream.Instances)
        {
            if (instance.Weight == 1)
            {
                writer.WriteStringValue(instance.Url);
            }
            else
            {
                writer.WriteStartObject();
                writer.WriteString("url", instance.Url);
                writer.WriteNumber("weight", instance.Weight);
                writer.WriteEndObject();
            }
        }

        writer.WriteEndArray();
        if (!string.Equals(upstream.LoadBalancing, LoadBalancingPolicies.RoundRobin, StringComparison.Ordinal))
        {
            writer.WriteString("loadBalancing", upstream.LoadBalancing);
        }

        WriteProperties(writer, RegistryFormat.Schema.UpstreamProperties, upstream.Properties);
        writer.WriteEndObject();
    }

    /// <summary>The capabilities' properties that are set, in schema order, each as the capability writes it.</summary>
    private static void WriteProperties(Utf8JsonWriter writer, IEnumerable<RegistryProperty> properties, RegistryPropertyValues values)
    {
        foreach (var property in properties)
        {
            if (values.GetValue(property) is { } value)
            {
                writer.WritePropertyName(property.FileName);
                property.WriteFile(writer, value, RegistryFormat.JsonOptions);
            }
        }
    }

    private static void WriteRoute(Utf8JsonWriter writer, RouteDefinition route)
    {
        writer.WriteStartObject();
        writer.WriteString("id", route.Id);
        WriteGroup(writer, route.Group);
        writer.WriteString("path", route.Path);
        WriteStrings(writer, "methods", route.Methods);
        WriteStrings(writer, "hosts", route.Hosts);
        WriteConditions(writer, "headers", route.Headers);
        WriteConditions(writer, "query", route.Query);
        if (route.Upstream is not null)
        {
            writer.WriteString("upstream", route.Upstream);
        }

        if (route.UpstreamPath is not null)
        {
            writer.WriteString("upstreamPath", route.UpstreamPath);
        }

        if (route.StripPrefix is not null)
        {
            writer.WriteString("stripPrefix", route.StripPrefix);
        }

        if (route.Priority != 0)
        {
            writer.WriteNumber("priority", route.Priority);
        }

        if (route.TimeoutSeconds is { } timeout)
        {
            writer.WriteNumber("timeoutSeconds", timeout);
        }

        if (!route.Enabled)
        {
            writer.WriteBoolean("enabled", false);
        }

        if (route.PreserveHost)
        {
            writer.WriteBoolean("preserveHost", true);
        }

        WriteProperties(writer, RegistryFormat.Schema.RouteProperties, route.Properties);
        writer.WriteEndObject();
    }

    private static void WriteGroup(Utf8JsonWriter writer, string group)
    {
        if (!string.Equals(group, RegistryFormat.DefaultGroup, StringComparison.Ordinal))
        {
            writer.WriteString("group", group);
        }
    }

    private static void WriteStrings(Utf8JsonWriter writer, string name, IReadOnlyList<string> values)
    {
        if (values.Count == 0)
        {
            return;
        }

        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    private static void WriteConditions(Utf8JsonWriter writer, string name, IReadOnlyList<RequestCondition> conditions)
    {
        if (conditions.Count == 0)
        {
            return;
        }

        writer.WriteStartArray(name);
        foreach (var condition in conditions)
        {
            writer.WriteStartObject();
            writer.WriteString("name", condition.Name);

            // Null and empty differ in the stored JSON, so only null is left out: the round trip stays a no-op.
            if (condition.Values is not null)
            {
                WriteStringsAlways(writer, "values", condition.Values);
            }

            if (condition.Mode != ConditionMode.Exact)
            {
                writer.WriteString("mode", condition.Mode.ToString());
            }

            if (condition.CaseSensitive)
            {
                writer.WriteBoolean("caseSensitive", true);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteStringsAlways(Utf8JsonWriter writer, string name, IReadOnlyList<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    private static JsonSerializerOptions CreateReadOptions()
    {
        // The registry's own JSON conventions (web names, string enums, unknown members refused), made strict for
        // hand-written files: no numbers in strings, no integer enums, no nulls where a value is required, no
        // duplicate properties.
        var options = new JsonSerializerOptions(RegistryFormat.JsonOptions)
        {
            NumberHandling = JsonNumberHandling.Strict,
            RespectNullableAnnotations = true,
            AllowDuplicateProperties = false,
        };
        options.Converters.Clear();
        options.Converters.Add(new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false));
        options.Converters.Add(new InstanceConverter());

        // Every capability's properties are members of the route and upstream objects, read as strictly as the rest.
        options.TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { RegistryFileContract.Modifier(RegistryFormat.Schema) } };
        return options;
    }

    /// <summary>A one-line message for a JSON error: what is wrong, where (line, column, JSON path), without .NET type names.</summary>
    internal static string Describe(JsonException ex)
    {
        var message = ex.Message;
        foreach (var marker in new[] { " Path: ", " LineNumber: " })
        {
            var cut = message.IndexOf(marker, StringComparison.Ordinal);
            if (cut >= 0)
            {
                message = message[..cut];
            }
        }

        message = UnknownMemberPattern().Replace(message, m => $"Unknown property '{m.Groups[1].Value}' in {Article(m.Groups[2].Value)}.");
        message = MissingRequiredPattern().Replace(message, m => $"{Capitalize(Article(m.Groups[1].Value))} is missing required properties: {m.Groups[2].Value}.");
        var isMode = ex.Path?.EndsWith(".mode", StringComparison.OrdinalIgnoreCase) == true;
        message = NotConvertiblePattern().Replace(message, m => $"Expected {Expected(isMode ? nameof(ConditionMode) : m.Groups[1].Value)} here.");
        message = DuplicatePropertyPattern().Replace(message, m => $"Duplicate property '{m.Groups[1].Value}'.");
        message = NullNotAllowedPattern().Replace(message, m => $"'{m.Groups[1].Value}' may not be null.");
        message = message.Replace("FuncGateway.Configuration.", "", StringComparison.Ordinal)
            .Replace("FuncGateway.Routing.", "", StringComparison.Ordinal)
            .Replace("FuncGateway.Cli.RegistryFile+", "", StringComparison.Ordinal);

        var where = new StringBuilder();
        if (ex.LineNumber is { } line)
        {
            where.Append(CultureInfo.InvariantCulture, $"line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1}");
        }

        if (ex.Path is { Length: > 1 } path)
        {
            where.Append(where.Length > 0 ? ", at " : "at ").Append(path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path);
        }

        return where.Length > 0 ? $"{where}: {message.Trim()}" : message.Trim();
    }

    private static string Article(string typeName) => Expected(typeName);

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    private static string Expected(string typeName) => typeName switch
    {
        _ when typeName.Contains("List`1[FuncGateway.Configuration.RouteDefinition]", StringComparison.Ordinal) => "an array of routes",
        _ when typeName.Contains("List`1[FuncGateway.Configuration.UpstreamDefinition]", StringComparison.Ordinal) => "an array of upstreams",
        _ when typeName.Contains("List`1[FuncGateway.Configuration.UpstreamInstanceDefinition]", StringComparison.Ordinal) => "an array of instances",
        _ when typeName.Contains("List`1[FuncGateway.Routing.RequestCondition]", StringComparison.Ordinal) => "an array of conditions",
        _ when typeName.Contains("List`1[System.String]", StringComparison.Ordinal) => "an array of strings",
        _ when typeName.EndsWith("RouteDefinition", StringComparison.Ordinal) => "a route object",
        _ when typeName.EndsWith("UpstreamDefinition", StringComparison.Ordinal) => "an upstream object",
        _ when typeName.EndsWith("UpstreamInstanceDefinition", StringComparison.Ordinal) => "an instance",
        _ when typeName.EndsWith("RequestCondition", StringComparison.Ordinal) => "a condition object",
        _ when typeName.EndsWith("ConditionMode", StringComparison.Ordinal) => $"one of {string.Join(", ", Enum.GetNames<ConditionMode>())}",
        _ when typeName.EndsWith("FileModel", StringComparison.Ordinal) => "an object {\"upstreams\": [...], \"routes\": [...]}",
        _ when typeName.Contains("System.Double", StringComparison.Ordinal) => "a number",
        _ when typeName.Contains("System.Int32", StringComparison.Ordinal) => "an integer",
        _ when typeName.Contains("System.Boolean", StringComparison.Ordinal) => "true or false",
        _ when typeName.Contains("System.String", StringComparison.Ordinal) => "a string",
        _ => typeName,
    };

    [GeneratedRegex(@"The JSON property '(.*?)' could not be mapped to any \.NET member contained in type '(.*?)'\.")]
    private static partial Regex UnknownMemberPattern();

    [GeneratedRegex(@"JSON deserialization for type '(.*?)' was missing required properties including: (.*?)\.?$")]
    private static partial Regex MissingRequiredPattern();

    [GeneratedRegex(@"The JSON value could not be converted to (.*?)\.$")]
    private static partial Regex NotConvertiblePattern();

    [GeneratedRegex(@"Duplicate property '(.*?)' encountered during deserialization.*$")]
    private static partial Regex DuplicatePropertyPattern();

    [GeneratedRegex(@"The (?:property or field|constructor parameter) '(.*?)' on type '.*?' doesn't allow (?:setting|getting) null values\..*$")]
    private static partial Regex NullNotAllowedPattern();

    /// <summary>The file's root object. A section is null when the file leaves it out; an explicit null is an error.</summary>
    private sealed class FileModel
    {
        public List<UpstreamDefinition> Upstreams
        {
            get => UpstreamsOrNull ?? [];
            set => UpstreamsOrNull = value;
        }

        public List<RouteDefinition> Routes
        {
            get => RoutesOrNull ?? [];
            set => RoutesOrNull = value;
        }

        [JsonIgnore]
        public List<UpstreamDefinition>? UpstreamsOrNull { get; private set; }

        [JsonIgnore]
        public List<RouteDefinition>? RoutesOrNull { get; private set; }
    }

    /// <summary>An instance is a URL string, or an object <c>{"url": "...", "weight": 1}</c>.</summary>
    private sealed class InstanceConverter : JsonConverter<UpstreamInstanceDefinition>
    {
        public override bool HandleNull => true;

        public override UpstreamInstanceDefinition Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.String:
                    return new UpstreamInstanceDefinition(reader.GetString()!);
                case JsonTokenType.StartObject:
                    return ReadObject(ref reader);
                default:
                    throw new JsonException($"An instance is a URL string or an object {{\"url\": \"http://...\", \"weight\": 1}}, not {Describe(reader.TokenType)}.");
            }
        }

        private static UpstreamInstanceDefinition ReadObject(ref Utf8JsonReader reader)
        {
            string? url = null;
            int? weight = null;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var name = reader.GetString()!;
                reader.Read();
                if (string.Equals(name, "url", StringComparison.OrdinalIgnoreCase))
                {
                    if (url is not null)
                    {
                        throw new JsonException("Duplicate property 'url' in an instance.");
                    }

                    url = reader.TokenType == JsonTokenType.String
                        ? reader.GetString()
                        : throw new JsonException($"An instance's \"url\" must be a string, not {Describe(reader.TokenType)}.");
                }
                else if (string.Equals(name, "weight", StringComparison.OrdinalIgnoreCase))
                {
                    if (weight is not null)
                    {
                        throw new JsonException("Duplicate property 'weight' in an instance.");
                    }

                    weight = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var w)
                        ? w
                        : throw new JsonException($"An instance's \"weight\" must be an integer, not {Describe(reader.TokenType)}.");
                }
                else
                {
                    throw new JsonException($"Unknown property '{name}' in an instance; an instance has \"url\" and \"weight\".");
                }
            }

            return url is null
                ? throw new JsonException("An instance object needs a \"url\".")
                : new UpstreamInstanceDefinition(url, weight ?? 1);
        }

        public override void Write(Utf8JsonWriter writer, UpstreamInstanceDefinition value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            writer.WriteString("url", value.Url);
            writer.WriteNumber("weight", value.Weight);
            writer.WriteEndObject();
        }

        private static string Describe(JsonTokenType token) => token switch
        {
            JsonTokenType.Null => "null",
            JsonTokenType.Number => "a number",
            JsonTokenType.True or JsonTokenType.False => "a boolean",
            JsonTokenType.StartArray => "an array",
            JsonTokenType.StartObject => "an object",
            _ => "a " + token.ToString().ToLowerInvariant(),
        };
    }
}
