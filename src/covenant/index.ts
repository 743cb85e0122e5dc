// The covenant as data: loader, decisions and the visibility matrix. Runtime-agnostic; the Node-only
// directory reader lives in src/node/covenant-fs.ts.
export { loadCovenant, covenantVersion, formatPath } from './load';
export { CovenantError, formatProblem, type CovenantProblem } from './errors';
export {
  decideAction,
  decidePurpose,
  decideVisibility,
  decideRegistration,
  decideMatchNotice,
  categoryRetention,
  maxExpiry,
  clampExpiry,
  MATCH_NOTICE_SUB,
  type RegistrationRef,
} from './decide';
export {
  visibilityMatrix,
  formatVisibilityMatrix,
  type MatrixCell,
  type MatrixCellState,
  type MatrixRow,
  type PurposeMatrix,
} from './matrix';
export { ACTIONS, DOMAINS, FIXED_RULE_IDS } from './types';
export type {
  Action,
  Actor,
  Article,
  AveLevel,
  Category,
  Covenant,
  CovenantIndex,
  Decision,
  Domain,
  Effect,
  FixedRuleId,
  MatchRule,
  Partner,
  Purpose,
  PurposeRequester,
  PurposeVisibility,
  RegistrationSelector,
  RequesterSelector,
  RetentionDefaults,
  Role,
  RuleInfo,
  RuleKind,
  VisibilityRule,
} from './types';
