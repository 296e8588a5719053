namespace Reassure.MLNet;

/// <summary>ML.NET entry points (filled by the ML.NET issue).</summary>
public static class RepairCatalog
{
}
