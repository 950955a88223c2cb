using System.Collections;
using System.Collections.Immutable;

namespace FuncGateway.Model;

/// <summary>
/// The values of a definition's capability-owned properties (<see cref="RegistryProperty"/>), immutable, compared by
/// value so that two definitions read from the same entity are equal. A property that is absent has its default.
/// </summary>
public sealed class RegistryPropertyValues : IEquatable<RegistryPropertyValues>, IEnumerable<KeyValuePair<RegistryProperty, object>>
{
    /// <summary>No values: every property at its default.</summary>
    public static RegistryPropertyValues Empty { get; } = new(ImmutableDictionary<RegistryProperty, object>.Empty);

    private readonly ImmutableDictionary<RegistryProperty, object> _values;

    private RegistryPropertyValues(ImmutableDictionary<RegistryProperty, object> values) => _values = values;

    /// <summary>How many properties have a value other than their default.</summary>
    public int Count => _values.Count;

    /// <summary>The property's value, or its default when absent.</summary>
    public T Get<T>(RegistryProperty<T> property)
    {
        ArgumentNullException.ThrowIfNull(property);
        return _values.TryGetValue(property, out var value) ? (T)value : property.Default;
    }

    /// <summary>The raw value of a property, or null when it has its default.</summary>
    public object? GetValue(RegistryProperty property) => _values.GetValueOrDefault(property);

    /// <summary>A copy with <paramref name="property"/> set (a default value removes it).</summary>
    public RegistryPropertyValues With<T>(RegistryProperty<T> property, T value) => With((RegistryProperty)property, value);

    /// <summary>A copy with <paramref name="property"/> set to a value of its <see cref="RegistryProperty.ValueType"/>.</summary>
    public RegistryPropertyValues With(RegistryProperty property, object? value)
    {
        ArgumentNullException.ThrowIfNull(property);
        if (value is not null && !property.ValueType.IsInstanceOfType(value))
        {
            throw new ArgumentException($"{property} takes a {property.ValueType.Name}, not a {value.GetType().Name}.", nameof(value));
        }

        return property.IsDefault(value) ? new(_values.Remove(property)) : new(_values.SetItem(property, value!));
    }

    /// <inheritdoc/>
    public bool Equals(RegistryPropertyValues? other)
    {
        if (other is null || other._values.Count != _values.Count)
        {
            return false;
        }

        foreach (var (property, value) in _values)
        {
            if (!other._values.TryGetValue(property, out var otherValue) || !ValueEquals(value, otherValue))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as RegistryPropertyValues);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = 0;
        foreach (var property in _values.Keys)
        {
            hash ^= property.GetHashCode();
        }

        return hash;
    }

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<RegistryProperty, object>> GetEnumerator() => _values.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static bool ValueEquals(object a, object b) => (a, b) switch
    {
        (string x, string y) => string.Equals(x, y, StringComparison.Ordinal),
        (IEnumerable x, IEnumerable y) when a is not string => x.Cast<object?>().SequenceEqual(y.Cast<object?>()),
        _ => Equals(a, b),
    };
}
