namespace FuncGateway.Model;

/// <summary>How a <see cref="RequestCondition"/> compares a request header or query parameter.</summary>
public enum ConditionMode
{
    /// <summary>A value equals one of the condition's values.</summary>
    Exact,

    /// <summary>A value starts with one of the condition's values.</summary>
    Prefix,

    /// <summary>A value contains one of the condition's values.</summary>
    Contains,

    /// <summary>The header or query parameter is present, with any value (values are ignored).</summary>
    Exists,

    /// <summary>The header or query parameter is absent (values are ignored).</summary>
    NotExists,
}
