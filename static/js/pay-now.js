// Pay now. With the card on file the form posts as it is. With another card, Stripe's Card
// Element confirms the SetupIntent the server created and the form posts its id. When the
// bank asks for 3-D Secure, the page comes back with the PaymentIntent's client secret:
// Stripe.js opens the bank's window, then the form posts and the server reads the outcome
// from Stripe (never from this page).
(function () {
  "use strict";
  const errors = document.getElementById("pay-errors");
  if (typeof Stripe === "undefined") {
    if (errors) errors.textContent = "Stripe's payment form could not be loaded. Reload the page to try again.";
    return;
  }
  const authenticate = document.getElementById("pay-authenticate");
  if (authenticate) {
    const stripe = Stripe(authenticate.dataset.publishableKey);
    document.getElementById("pay-submit").disabled = true;
    stripe.confirmCardPayment(authenticate.dataset.clientSecret).finally(function () {
      authenticate.submit();
    });
    return;
  }
  const form = document.getElementById("pay-form");
  if (!form) return;
  const stripe = Stripe(form.dataset.publishableKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  const newCard = document.getElementById("new-card");
  const button = document.getElementById("pay-submit");
  const source = function () {
    const checked = form.querySelector('input[name="source"]:checked');
    return checked ? checked.value : "new";
  };
  form.querySelectorAll('input[name="source"]').forEach(function (radio) {
    radio.addEventListener("change", function () {
      newCard.hidden = source() !== "new";
    });
  });

  form.addEventListener("submit", async function (event) {
    if (source() !== "new") {
      button.disabled = true; // one charge: the server also keys it by the page's key
      return;
    }
    event.preventDefault();
    button.disabled = true;
    errors.textContent = "";
    const result = await stripe.confirmCardSetup(form.dataset.clientSecret, {
      payment_method: { card: card, billing_details: { name: form.dataset.holder } },
    });
    if (result.error) {
      errors.textContent = result.error.message || "The card could not be used.";
      button.disabled = false;
      return;
    }
    form.elements.setup_intent.value = result.setupIntent.id;
    form.submit();
  });
})();
