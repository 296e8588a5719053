namespace Reassure;

/// <summary>
/// An error a user can act on: a stable code (RSR1xxx bad input, RSR2xxx gate failures, RSR3xxx internal limits),
/// what was wrong, where, and what was expected.
/// </summary>
public sealed class ReassureException : Exception
{
    /// <summary>Creates an error with its code.</summary>
    public ReassureException(string code, string message, string? location = null, Exception? inner = null)
        : base(Format(code, message, location), inner)
    {
        Code = code;
        Detail = message;
        Location = location;
    }

    /// <summary>The stable code, e.g. RSR1001.</summary>
    public string Code { get; }

    /// <summary>The message without code and location.</summary>
    public string Detail { get; }

    /// <summary>Where: file, node, column or row, when known.</summary>
    public string? Location { get; }

    private static string Format(string code, string message, string? location) =>
        location is null ? $"{code}: {message}" : $"{code}: {location}: {message}";
}
