using System.Text.Json;
using FuncGateway.Model;

namespace FuncGateway.Validation;

/// <summary>One broken rule: where (<c>body</c>, <c>query</c>, <c>header</c>, <c>path</c>), the JSON Pointer or parameter name, the rule and why.</summary>
internal readonly record struct ValidationViolation(string In, string Location, string Rule, string Message);

/// <summary>The violations of one request, at most <see cref="MaxListed"/> of them (the response says when there were more).</summary>
internal sealed class ViolationList
{
    /// <summary>How many violations a response lists.</summary>
    public const int MaxListed = 20;

    /// <summary>Longest location echoed back: names and pointers come from the client.</summary>
    private const int MaxLocationLength = 100;

    private readonly List<ValidationViolation> _items = [];

    public int Count { get; private set; }

    public bool IsFull => Count >= MaxListed;

    public IReadOnlyList<ValidationViolation> Items => _items;

    public void Add(string where, string location, string rule, string message)
    {
        Count++;
        if (_items.Count < MaxListed)
        {
            _items.Add(new ValidationViolation(where, Safe(location), rule, message));
        }
    }

    /// <summary>Writes the <c>violations</c> member of the problem response.</summary>
    public void WriteTo(Utf8JsonWriter json)
    {
        json.WriteStartArray("violations");
        foreach (var violation in _items)
        {
            json.WriteStartObject();
            json.WriteString("in", violation.In);
            json.WriteString("location", violation.Location);
            json.WriteString("rule", violation.Rule);
            json.WriteString("message", violation.Message);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        if (Count > _items.Count)
        {
            json.WriteNumber("violationCount", Count);
        }
    }

    /// <summary>Client-supplied text cut to 100 characters, control characters replaced: never long or binary input echoed back.</summary>
    internal static string Safe(string value) =>
        value.Length <= MaxLocationLength ? PrintableText.Of(value) : PrintableText.Of(value[..MaxLocationLength]) + "…";
}
