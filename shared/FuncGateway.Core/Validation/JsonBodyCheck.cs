using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using FuncGateway.Model;
using Json.Schema;

namespace FuncGateway.Validation;

/// <summary>
/// Checks one buffered JSON body: the route's JSON limits, duplicate members, injection screening and its schema.
/// The body is parsed once into a <see cref="JsonDocument"/>, which the limits walk and the schema share. A body
/// that passes everything (the common case) costs that parse, one walk without allocations and one pass/fail schema
/// evaluation. Only a body that breaks something is checked again the detailed way, so the 400 lists each broken
/// rule with its JSON Pointer exactly as <see cref="JsonBodyScanner"/> and a full schema evaluation report it.
/// </summary>
internal static class JsonBodyCheck
{
    /// <summary>Pass/fail only: the library stops collecting errors and annotations once it knows the answer.</summary>
    private static readonly EvaluationOptions PassFail = new()
    {
        OutputFormat = OutputFormat.Flag,
        RequireFormatValidation = true,
    };

    /// <summary>Every error with its location: only for a body that failed <see cref="PassFail"/>.</summary>
    private static readonly EvaluationOptions Detailed = new()
    {
        OutputFormat = OutputFormat.List,
        RequireFormatValidation = true,
    };

    /// <summary>The reader's depth cap above any route's limit (the walk enforces the route's), duplicates refused.</summary>
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = JsonLimits.MaxSupportedDepth + 1,
        AllowDuplicateProperties = false,
    };

    private const int MaxMessageLength = 200;

    public static void Check(ReadOnlyMemory<byte> body, RouteValidation validation, ViolationList violations)
    {
        // JSON text is UTF-8 (RFC 8259 §8.1); the parser would only notice when a string is decoded, and fail there.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            violations.Add("body", "", "json", "The body is not valid JSON: it is not valid UTF-8.");
            return;
        }

        try
        {
            CheckWellFormed(body, validation, violations);
        }
        catch (InvalidOperationException)
        {
            // A string escapes half a surrogate pair ("\ud800"): no parser decodes it the same way, so it is not let through.
            violations.Add("body", "", "json", "The body is not valid JSON: a string holds an unpaired surrogate escape.");
        }
    }

    private static void CheckWellFormed(ReadOnlyMemory<byte> body, RouteValidation validation, ViolationList violations)
    {
        var limits = validation.JsonLimits!;
        JsonDocument? document = null;
        try
        {
            document = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException)
        {
            // Not JSON, too deep or a repeated member: the scanner below says which, and where.
        }

        using (document)
        {
            if (document is not null && !violations.IsFull && new Walk(limits, validation.Injection).IsClean(document.RootElement, 1))
            {
                if (validation.Schema is { } schema)
                {
                    CheckSchema(schema, document.RootElement, violations);
                }

                return;
            }

            // Something is wrong: the scanner names each broken limit by pointer and screens every string.
            if (JsonBodyScanner.Scan(body.Span, limits, validation.Injection, violations) && validation.Schema is { } checkedSchema)
            {
                if (document is null)
                {
                    // The scanner and the parser disagree: fail closed.
                    violations.Add("body", "", "json", "The body is not valid JSON.");
                    return;
                }

                CheckSchema(checkedSchema, document.RootElement, violations);
            }
        }
    }

    private static void CheckSchema(JsonSchema schema, JsonElement root, ViolationList violations)
    {
        EvaluationResults results;
        try
        {
            if (schema.Evaluate(root, PassFail).IsValid)
            {
                return;
            }

            results = schema.Evaluate(root, Detailed);
        }
        catch (JsonSchemaException)
        {
            // Fail closed: a body the schema cannot judge does not go upstream.
            violations.Add("body", "", "schema", "The body could not be checked against the route's schema.");
            return;
        }

        if (results.IsValid)
        {
            // The pass/fail evaluation failed: never let a body through because the detailed one disagrees.
            violations.Add("body", "", "schema", "The body does not satisfy the route's schema.");
            return;
        }

        Collect(results, violations);
    }

    private static void Collect(EvaluationResults results, ViolationList violations)
    {
        if (results.Errors is { } errors)
        {
            foreach (var (keyword, message) in errors)
            {
                if (violations.IsFull)
                {
                    return;
                }

                var text = keyword + ": " + message;
                violations.Add("body", results.InstanceLocation.ToString(), "schema", text.Length > MaxMessageLength ? PrintableText.Of(text[..MaxMessageLength]) + "…" : PrintableText.Of(text));
            }
        }

        if (results.Details is { } details)
        {
            foreach (var child in details)
            {
                Collect(child, violations);
            }
        }
    }

    /// <summary>
    /// True when the document keeps every limit the scanner checks and no screened string matches a signature. It
    /// builds no pointer and decodes no string unless it must; any doubt answers false and sends the body to the
    /// scanner, which reports it.
    /// </summary>
    private sealed class Walk(JsonLimits limits, InjectionScreen? screen)
    {
        // The path to the current value, kept only when screening, to name a matching string's pointer.
        private readonly List<(string? Name, int Index)> _path = [];

        public bool IsClean(JsonElement element, int depth)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    if (depth > limits.MaxDepth || RepeatsAName(element))
                    {
                        return false;
                    }

                    var members = 0;
                    foreach (var member in element.EnumerateObject())
                    {
                        if (++members > limits.MaxProperties
                            || (JsonMarshal.GetRawUtf8PropertyName(member).Length > limits.MaxStringLength && member.Name.Length > limits.MaxStringLength))
                        {
                            return false;
                        }

                        // A screened name sends the body to the scanner, which reports it unless it is free text.
                        var name = screen is null ? null : member.Name;
                        if (name is not null && screen!.Matches(name))
                        {
                            return false;
                        }

                        if (!Descend(member.Value, depth, name, 0))
                        {
                            return false;
                        }
                    }

                    return true;
                case JsonValueKind.Array:
                    if (depth > limits.MaxDepth || element.GetArrayLength() > limits.MaxArrayItems)
                    {
                        return false;
                    }

                    var index = 0;
                    foreach (var item in element.EnumerateArray())
                    {
                        if (!Descend(item, depth, null, index++))
                        {
                            return false;
                        }
                    }

                    return true;
                case JsonValueKind.String:
                    // Within the limit in bytes means within it in characters; only a long or screened one is decoded.
                    if (JsonMarshal.GetRawUtf8Value(element).Length - 2 <= limits.MaxStringLength && screen is null)
                    {
                        return true;
                    }

                    var value = element.GetString()!;
                    return value.Length <= limits.MaxStringLength && (screen is null || !screen.Matches(value) || screen.IsFreeText(Pointer()));
                default:
                    return true;
            }
        }

        /// <summary>
        /// True when two members' names differ at most in case (the parser already refused exact repeats). Small
        /// objects are compared pairwise on their raw bytes without allocating; larger ones through a set.
        /// </summary>
        private static bool RepeatsAName(JsonElement element)
        {
            var count = element.GetPropertyCount();
            if (count < 2)
            {
                return false;
            }

            if (count > 8)
            {
                var names = new HashSet<string>(count, MemberNameComparer.Instance);
                foreach (var member in element.EnumerateObject())
                {
                    if (!names.Add(member.Name))
                    {
                        return true;
                    }
                }

                return false;
            }

            var i = 0;
            foreach (var first in element.EnumerateObject())
            {
                var j = 0;
                foreach (var second in element.EnumerateObject())
                {
                    if (j++ > i && SameName(first, second))
                    {
                        return true;
                    }
                }

                i++;
            }

            return false;
        }

        private static bool SameName(JsonProperty first, JsonProperty second)
        {
            var x = JsonMarshal.GetRawUtf8PropertyName(first);
            var y = JsonMarshal.GetRawUtf8PropertyName(second);
            return System.Text.Ascii.IsValid(x) && System.Text.Ascii.IsValid(y) && !x.Contains((byte)'\\') && !y.Contains((byte)'\\')
                ? System.Text.Ascii.EqualsIgnoreCase(x, y)
                : MemberNameComparer.Instance.Equals(first.Name, second.Name);
        }

        private bool Descend(JsonElement value, int depth, string? name, int index)
        {
            // Only strings need their path (for free-text fields), and only when screening.
            var tracked = screen is not null && value.ValueKind is JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.String;
            if (tracked)
            {
                _path.Add((name, index));
            }

            var clean = IsClean(value, depth + 1);
            if (tracked)
            {
                _path.RemoveAt(_path.Count - 1);
            }

            return clean;
        }

        private string Pointer()
        {
            var builder = new StringBuilder();
            foreach (var (name, index) in _path)
            {
                builder.Append('/');
                if (name is null)
                {
                    builder.Append(index);
                }
                else
                {
                    JsonBodyScanner.Escape(builder, name);
                }
            }

            return builder.ToString();
        }
    }
}
