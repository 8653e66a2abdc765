/* Every endpoint family's request handlers, for the dispatcher. */
#ifndef MOD_POLYPARTNER_HANDLERS_H
#define MOD_POLYPARTNER_HANDLERS_H

#include "mod_polypartner_accounts.h"
#include "mod_polypartner_login.h"
#include "mod_polypartner_markets.h"
#include "mod_polypartner_signin.h"
#include "mod_polypartner_trader.h"
#include "mod_polypartner_trading.h"
#include "mod_polypartner_users.h"

#endif
