// `meridian check <history.json>`: validates a recorded history and runs the linearizability checker.
export async function checkHistoryFile(
  _file: string,
  _budgetMs?: number,
): Promise<{ text: string; exitCode: number }> {
  return { text: "linearizability checker not wired yet", exitCode: 2 };
}
