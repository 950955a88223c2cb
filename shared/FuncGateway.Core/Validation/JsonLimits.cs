namespace FuncGateway.Validation;

/// <summary>The JSON limits of a route, with the defaults filled in (unset counts are unlimited).</summary>
internal sealed record JsonLimits(int MaxDepth, int MaxStringLength, int MaxProperties, int MaxArrayItems)
{
    /// <summary>The default depth (Utf8JsonReader's own default).</summary>
    public const int DefaultMaxDepth = 64;

    /// <summary>The deepest a route may allow.</summary>
    public const int MaxSupportedDepth = 256;

    /// <summary>Routes that parse JSON without a <c>json</c> member: depth 64, nothing else limited.</summary>
    public static JsonLimits Default { get; } = new(DefaultMaxDepth, int.MaxValue, int.MaxValue, int.MaxValue);

    public static JsonLimits? Create(JsonLimitsDefinition? definition, List<string> errors)
    {
        if (definition is null)
        {
            return Default;
        }

        var count = errors.Count;
        Check("json.maxDepth", definition.MaxDepth, 1, MaxSupportedDepth, errors);
        Check("json.maxStringLength", definition.MaxStringLength, 1, int.MaxValue, errors);
        Check("json.maxProperties", definition.MaxProperties, 1, int.MaxValue, errors);
        Check("json.maxArrayItems", definition.MaxArrayItems, 1, int.MaxValue, errors);
        return errors.Count > count ? null : new JsonLimits(
            definition.MaxDepth ?? DefaultMaxDepth,
            definition.MaxStringLength ?? int.MaxValue,
            definition.MaxProperties ?? int.MaxValue,
            definition.MaxArrayItems ?? int.MaxValue);
    }

    private static void Check(string name, int? value, int min, int max, List<string> errors)
    {
        if (value is { } v && (v < min || v > max))
        {
            errors.Add($"Validation {name} {v} is outside {min}–{max}.");
        }
    }
}
