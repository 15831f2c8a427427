// Compiled with `tsc --noEmit` against the types graphql-codegen generated from
// schema.graphql (copied next to it as ./graphql.ts by tests/clients/test_codegen.py).
import type {
  LoginMutation,
  LoginMutationVariables,
  MyPortfoliosQuery,
  Role,
  TicksSubscription,
  TicksSubscriptionVariables,
} from "./graphql";

export const loginVariables: LoginMutationVariables = {
  tenant: "acme",
  email: "investor@acme.test",
  password: "secret",
};

export function bearer(result: LoginMutation): string {
  return `Bearer ${result.login.accessToken}`;
}

export function role(result: LoginMutation): Role {
  return result.login.user.role;
}

export function portfolioNames(result: MyPortfoliosQuery): string[] {
  return result.myPortfolios.map((portfolio) => `${portfolio.name} (${portfolio.baseCurrency})`);
}

export const tickVariables: TicksSubscriptionVariables = { symbols: ["XAUUSD"] };

export function spread(result: TicksSubscription): number {
  const { bid, ask } = result.ticks;
  return ask - bid;
}
