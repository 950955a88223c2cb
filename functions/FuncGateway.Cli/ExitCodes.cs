namespace FuncGateway.Cli;

/// <summary>The exit codes scripts can rely on.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>The file was unreadable or malformed, or rows were rejected; nothing was written.</summary>
    public const int InvalidInput = 1;

    /// <summary>The command line was wrong (unknown command or option, missing argument, no storage configured).</summary>
    public const int Usage = 2;

    /// <summary>Storage was unreachable or refused the operation.</summary>
    public const int StorageFailure = 3;

    /// <summary>
    /// Rows changed in storage after the command read them (another import, Storage Explorer, <c>az storage entity</c>);
    /// the command stopped without overwriting them. <c>--force</c> writes regardless.
    /// </summary>
    public const int Conflict = 4;
}

/// <summary>Ends a command with a message for stderr and an exit code; the message never holds secrets.</summary>
internal sealed class CliException : Exception
{
    public CliException(int exitCode, string message)
        : base(message) => ExitCode = exitCode;

    public CliException()
    {
    }

    public CliException(string message)
        : base(message)
    {
    }

    public CliException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public int ExitCode { get; } = ExitCodes.InvalidInput;
}
