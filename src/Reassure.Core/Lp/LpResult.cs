namespace Reassure.Lp;

/// <summary>The optimum of one LP: value and the maximising input x (<c>[n]</c>).</summary>
public sealed record LpResult(double Value, double[] X);

/// <summary>Raises the coded error for a solver status that is not an optimum.</summary>
internal static class LpStatus
{
    public static void ThrowIfNotOptimal(Google.OrTools.LinearSolver.Solver.ResultStatus status, string what)
    {
        switch (status)
        {
            case Google.OrTools.LinearSolver.Solver.ResultStatus.OPTIMAL:
                return;
            case Google.OrTools.LinearSolver.Solver.ResultStatus.INFEASIBLE:
                throw new ReassureException(ErrorCodes.LpInfeasible, $"GLOP reports the region infeasible while maximising {what}; a region that holds an input cannot be empty (numerical trouble).");
            case Google.OrTools.LinearSolver.Solver.ResultStatus.UNBOUNDED:
                throw new ReassureException(ErrorCodes.LpUnbounded, $"GLOP reports {what} unbounded over a region inside a bounded box.");
            default:
                throw new ReassureException(ErrorCodes.LpNotOptimal, $"GLOP stopped with status {status} while maximising {what} (iteration or time limit, or numerical trouble).");
        }
    }
}
