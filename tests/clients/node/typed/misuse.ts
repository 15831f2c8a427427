// Must NOT compile: proves the generated types are real (selection sets and nullability).
import type { MyPortfoliosQuery, TicksSubscription } from "./graphql";

export function notSelected(result: MyPortfoliosQuery): unknown {
  return result.myPortfolios[0].holdings; // holdings is not in the selection set
}

export function wrongType(result: TicksSubscription): string {
  return result.ticks.bid; // bid is a number
}
