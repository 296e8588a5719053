namespace Reassure.Reports;

/// <summary>One buggy row of a point-wise repair as the report shows it.</summary>
/// <param name="Id">The row's name.</param>
/// <param name="Fixed">Meets its specification in double and, where checked, in float32, with no error.</param>
/// <param name="Status">"fixed", "not fixed", "fixed in double only", ...</param>
/// <param name="ErrorCode">The engine's RSR code, if any.</param>
/// <param name="Patch">The patch whose region holds the row.</param>
/// <param name="Message">What went wrong.</param>
public sealed record ReportRow(string Id, bool Fixed, string Status, string? ErrorCode, int? Patch, string? Message);

/// <summary>One patch as the report shows it.</summary>
/// <param name="Index">Position in the patch order.</param>
/// <param name="Region">Hash of the region's activation pattern (empty for sub-box patches).</param>
/// <param name="Gamma">Support sharpness.</param>
/// <param name="Norm">max over the region of |p(x)|_inf.</param>
/// <param name="Rows">Buggy rows the patch fixes (0 for area repair).</param>
/// <param name="Verified">Passed the independent LP check; null when not reported.</param>
public sealed record ReportPatch(int Index, string Region, double Gamma, double Norm, int Rows, bool? Verified);

/// <summary>Wall time of one stage.</summary>
public sealed record ReportStage(string Name, double Seconds);

/// <summary>The area-repair facts: regions, patches and the proof's verdict.</summary>
/// <param name="Strategy">regions or boxes.</param>
/// <param name="RegionsFound">Violating regions (or boxes) found.</param>
/// <param name="Patched">Regions (or boxes) patched.</param>
/// <param name="Searched">Linear regions the search visited.</param>
/// <param name="Before">Verdict on the original network (holds, violated, unknown).</param>
/// <param name="After">Verdict of the re-verification of the repaired network.</param>
/// <param name="Detail">How the re-verification reached its verdict.</param>
/// <param name="Budget">The budget a search hit, if any.</param>
/// <param name="Gamma">Largest support gamma.</param>
/// <param name="Errors">Regions that could not be patched, with their codes.</param>
public sealed record AreaSummary(string Strategy, int RegionsFound, int Patched, int Searched, string Before, string After, string Detail,
    string? Budget, double Gamma, IReadOnlyList<string> Errors);
