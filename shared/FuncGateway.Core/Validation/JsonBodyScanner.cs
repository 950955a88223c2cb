using System.Text;
using System.Text.Json;

namespace FuncGateway.Validation;

/// <summary>
/// One forward pass over a JSON body with <see cref="Utf8JsonReader"/>: is it JSON at all, does it stay within the
/// route's limits (depth, string length, members per object, items per array), does an object repeat a member name, also
/// in another case (parsers disagree on which one wins, and some ignore case, so a schema check could pass one value and the upstream read another), and
/// the injection screening of string values. No document is built; locations are JSON Pointers.
/// </summary>
internal static class JsonBodyScanner
{
    /// <summary>Scans <paramref name="body"/>; returns false when it is not JSON (or breaks a structural limit) and a schema check would be pointless.</summary>
    public static bool Scan(ReadOnlySpan<byte> body, JsonLimits limits, InjectionScreen? screen, ViolationList violations)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = JsonLimits.MaxSupportedDepth + 1, CommentHandling = JsonCommentHandling.Disallow });
        var path = new List<Level>();
        string? property = null;
        var ok = true;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        if (!Item(path, ref property, limits, violations))
                        {
                            ok = false;
                        }

                        if (path.Count + 1 > limits.MaxDepth)
                        {
                            violations.Add("body", Pointer(path, null), "maxDepth", $"The body nests deeper than {limits.MaxDepth} levels.");
                            return false;
                        }

                        path.Add(new Level(reader.TokenType == JsonTokenType.StartArray));
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        path.RemoveAt(path.Count - 1);
                        break;
                    case JsonTokenType.PropertyName:
                        property = reader.GetString()!;
                        if (property.Length > limits.MaxStringLength)
                        {
                            violations.Add("body", Pointer(path, null, path.Count - 1), "maxStringLength", $"A member name is longer than {limits.MaxStringLength} characters.");
                            return false;
                        }

                        var level = path[^1];
                        if (!(level.Names ??= new HashSet<string>(MemberNameComparer.Instance)).Add(property))
                        {
                            violations.Add("body", Pointer(path, property, path.Count - 1), "duplicateMember", "The object repeats this member name (names that differ only in case count as the same).");
                            ok = false;
                        }

                        // A member name reaches the upstream as much as a value does (a map, a reflected key).
                        screen?.ScreenBodyValue(Pointer(path, property, path.Count - 1), property, violations);
                        break;
                    case JsonTokenType.String:
                        if (!Item(path, ref property, limits, violations))
                        {
                            ok = false;
                        }

                        // Within the limit in bytes means within it in characters; only a long one is decoded to count.
                        if (reader.ValueSpan.Length > limits.MaxStringLength || screen is not null)
                        {
                            var value = reader.GetString()!;
                            var location = Pointer(path, null);
                            if (value.Length > limits.MaxStringLength)
                            {
                                violations.Add("body", location, "maxStringLength", $"The string is longer than {limits.MaxStringLength} characters.");
                                ok = false;
                            }
                            else
                            {
                                screen?.ScreenBodyValue(location, value, violations);
                            }
                        }

                        break;
                    default:
                        if (!Item(path, ref property, limits, violations))
                        {
                            ok = false;
                        }

                        break;
                }

                if (violations.IsFull)
                {
                    return false;
                }
            }
        }
        catch (JsonException ex)
        {
            violations.Add("body", "", "json", $"The body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}).");
            return false;
        }
        catch (InvalidOperationException)
        {
            // A string that cannot be decoded: invalid UTF-8 or half a surrogate pair.
            violations.Add("body", Pointer(path, property), "json", "The body is not valid JSON: a string cannot be decoded (invalid UTF-8 or an unpaired surrogate escape).");
            return false;
        }

        return ok;
    }

    /// <summary>Counts one value in its container; false (with a violation) when the container is over its limit.</summary>
    private static bool Item(List<Level> path, ref string? property, JsonLimits limits, ViolationList violations)
    {
        if (path.Count == 0)
        {
            return true;
        }

        var level = path[^1];
        level.Count++;
        if (level.IsArray)
        {
            level.Index = level.Count - 1;
            if (level.Count == limits.MaxArrayItems + 1)
            {
                violations.Add("body", Pointer(path, null, path.Count - 1), "maxArrayItems", $"The array has more than {limits.MaxArrayItems} items.");
                return false;
            }
        }
        else
        {
            level.Name = property;
            property = null;
            if (level.Count == limits.MaxProperties + 1)
            {
                violations.Add("body", Pointer(path, null, path.Count - 1), "maxProperties", $"The object has more than {limits.MaxProperties} members.");
                return false;
            }
        }

        return true;
    }

    /// <summary>The JSON Pointer of the value just counted at <paramref name="depth"/> levels (all by default), plus <paramref name="member"/>.</summary>
    private static string Pointer(List<Level> path, string? member, int depth = -1)
    {
        var builder = new StringBuilder();
        var count = depth < 0 ? path.Count : depth;
        for (var i = 0; i < count; i++)
        {
            var level = path[i];
            builder.Append('/');
            if (level.IsArray)
            {
                builder.Append(level.Index);
            }
            else
            {
                Escape(builder, level.Name ?? "");
            }
        }

        if (member is not null)
        {
            builder.Append('/');
            Escape(builder, member);
        }

        return builder.ToString();
    }

    internal static void Escape(StringBuilder builder, string segment) =>
        builder.Append(segment.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal));

    private sealed class Level(bool isArray)
    {
        public bool IsArray { get; } = isArray;

        public int Count { get; set; }

        public int Index { get; set; }

        public string? Name { get; set; }

        public HashSet<string>? Names { get; set; }
    }
}
