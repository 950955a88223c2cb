using System.Reflection;
using System.Text.RegularExpressions;
using FuncGateway.Authentication;
using FuncGateway.Caching;
using FuncGateway.Concurrency;
using FuncGateway.Diagnostics;
using FuncGateway.Discovery;
using FuncGateway.IpRules;
using FuncGateway.RateLimiting;
using FuncGateway.Testing;
using FuncGateway.Validation;
using FuncGateway.Versioning;

namespace FuncGateway.Core.Tests.Diagnostics;

/// <summary>
/// docs/errors.md is the contract for the <c>code</c> of every gateway-made problem response: each code a constant
/// of the core can produce is named there, and each code its table lists is one the core has.
/// </summary>
public sealed partial class ProblemCodesDocumentationTests
{
    /// <summary>The classes that hold the core's problem codes (the only places a gateway-made <c>code</c> comes from).</summary>
    private static readonly Type[] CodeHolders =
    [
        typeof(ProblemCodes),
        typeof(AuthProblemCodes),
        typeof(RateLimitProblems),
        typeof(ValidationProblems),
        typeof(VersioningProblems),
        typeof(IpRulesProblems),
        typeof(ConcurrencyProblems),
        typeof(RegistrationEndpoint),
        typeof(CachePurgeEndpoint),
    ];

    public static TheoryData<string> Codes => new(CodesOf(CodeHolders));

    [Theory]
    [MemberData(nameof(Codes))]
    public void Every_problem_code_the_core_defines_is_documented_in_errors_md(string code)
    {
        Assert.True(ErrorsPage.Contains($"`{code}`", StringComparison.Ordinal),
            $"docs/errors.md does not name the problem code `{code}`; add it (status, when) so clients can rely on it.");
    }

    [Fact]
    public void Every_code_in_the_errors_md_table_is_one_the_core_defines()
    {
        var defined = CodesOf(CodeHolders).ToHashSet(StringComparer.Ordinal);
        var documented = ErrorsPage.Split('\n')
            .Where(line => line.StartsWith("| ", StringComparison.Ordinal) && line.Count(c => c == '|') >= 4)
            .SelectMany(line => CodeSpan().Matches(line.Split('|')[2]).Select(match => match.Groups[1].Value))
            .Distinct()
            .ToList();

        Assert.NotEmpty(documented);
        Assert.All(documented, code => Assert.True(defined.Contains(code), $"docs/errors.md lists `{code}`, which no problem-code constant defines."));
    }

    [Fact]
    public void The_enumeration_sees_the_codes_of_ProblemCodes()
    {
        // Guards the reflection itself: a change to how the constants are declared must not make the theory vacuous.
        var codes = CodesOf([typeof(ProblemCodes)]);
        Assert.Contains(ProblemCodes.RouteNotFound, codes);
        Assert.Contains(ProblemCodes.TunnelLimitReached, codes);
        Assert.Contains(ProblemCodes.RequestTimeout, codes);
    }

    private static string ErrorsPage => File.ReadAllText(RepositoryRoot.Combine("docs/errors.md"));

    private static List<string> CodesOf(IEnumerable<Type> holders) =>
        holders
            .SelectMany(type => type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Where(field => field is { IsLiteral: true, IsInitOnly: false } && field.FieldType == typeof(string))
            .Select(field => (string)field.GetRawConstantValue()!)
            .Where(value => CodeShape().IsMatch(value))
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();

    [GeneratedRegex("^[a-z]+(_[a-z]+)*$")]
    private static partial Regex CodeShape();

    [GeneratedRegex("`([a-z]+(?:_[a-z]+)*)`")]
    private static partial Regex CodeSpan();
}
